// ElfExports reads a plugin's exports without loading it: against the plugins the build made
// (build/backends) and files that are not what they claim.
#include "plugin/elf_exports.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace switchyard::plugin {
namespace {

const std::string kBackends = SWITCHYARD_BACKENDS;

TEST(ElfExportsTest, FindsWhatAPluginDefinesAndNotWhatItLacks) {
  const std::string sim = kBackends + "/libswitchyard_backend_sim.so";
  const std::string exec = kBackends + "/libswitchyard_backend_exec.so";
  EXPECT_TRUE(ElfExports(sim, "SyModelPlacementHints"));
  EXPECT_TRUE(ElfExports(sim, "SyInstanceExecute"));
  EXPECT_FALSE(ElfExports(sim, "SyModelPlacementHint"));    // a prefix is not the name
  EXPECT_FALSE(ElfExports(sim, "SyModelPlacementHintsX"));  // nor a longer one
  EXPECT_TRUE(ElfExports(exec, "SyInstanceExecute"));
  EXPECT_FALSE(ElfExports(exec, "SyModelPlacementHints"));
  EXPECT_FALSE(ElfExports(exec, "dlopen"));  // an undefined reference is not an export
  // The python name is a link to the exec plugin.
  EXPECT_TRUE(ElfExports(kBackends + "/libswitchyard_backend_python.so", "SyInstanceExecute"));
}

TEST(ElfExportsTest, AnythingElseExportsNothing) {
  EXPECT_FALSE(ElfExports(kBackends + "/no_such_plugin.so", "SyInstanceExecute"));
  const std::string dir = ::testing::TempDir() + "elf_exports_test_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::ifstream in(kBackends + "/libswitchyard_backend_sim.so", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 4096u);
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, std::size_t{64}, std::size_t{4096},
                          bytes.size() / 2, bytes.size() - 1}) {
    const std::string path = dir + "/cut" + std::to_string(cut);
    std::ofstream(path, std::ios::binary) << bytes.substr(0, cut);
    // The section headers sit at the end: a file cut anywhere before loses them.
    EXPECT_FALSE(ElfExports(path, "SyModelPlacementHints")) << cut;
  }
  std::ofstream(dir + "/text", std::ios::binary) << "not an ELF file at all";
  EXPECT_FALSE(ElfExports(dir + "/text", "SyInstanceExecute"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace switchyard::plugin
