#include "exec/command_line.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace switchyard::exec {
namespace {

std::vector<std::string> Split(std::string_view command) {
  auto words = SplitCommand(command);
  EXPECT_TRUE(words.ok()) << words.status().message();
  return words.ok() ? *words : std::vector<std::string>{};
}

TEST(SplitCommandTest, SplitsOnWhitespace) {
  EXPECT_EQ(Split("/usr/bin/python3 model.py"),
            (std::vector<std::string>{"/usr/bin/python3", "model.py"}));
  EXPECT_EQ(Split("  a\tb \n c  "), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(SplitCommandTest, QuotesKeepSpacesAndJoinNeighbours) {
  EXPECT_EQ(Split("run \"a b\" 'c d'"), (std::vector<std::string>{"run", "a b", "c d"}));
  EXPECT_EQ(Split("x a\"b c\"d"), (std::vector<std::string>{"x", "ab cd"}));
  EXPECT_EQ(Split("x \"\" ''"), (std::vector<std::string>{"x", "", ""}));
}

TEST(SplitCommandTest, EscapesInDoubleQuotesOnlyForQuoteAndBackslash) {
  EXPECT_EQ(Split(R"(x "a\"b" "c\\d" "e\nf")"),
            (std::vector<std::string>{"x", "a\"b", "c\\d", "e\\nf"}));
  EXPECT_EQ(Split(R"(x 'a\"b')"), (std::vector<std::string>{"x", "a\\\"b"}));
  EXPECT_EQ(Split(R"(x a\ b \')"), (std::vector<std::string>{"x", "a b", "'"}));
}

TEST(SplitCommandTest, NoShellExpansion) {
  EXPECT_EQ(Split("echo $HOME * | rm -rf ~; `id`"),
            (std::vector<std::string>{"echo", "$HOME", "*", "|", "rm", "-rf", "~;", "`id`"}));
}

TEST(SplitCommandTest, RejectsBadCommands) {
  for (std::string_view bad : {"", "   ", "a 'b", "a \"b", "a \"b\\\"", "a\\"}) {
    auto words = SplitCommand(bad);
    EXPECT_FALSE(words.ok()) << "'" << bad << "'";
    if (!words.ok()) {
      EXPECT_EQ(words.status().code(), SY_ERROR_INVALID_ARGUMENT);
    }
  }
  EXPECT_FALSE(SplitCommand(std::string_view("a\0b", 3)).ok());
  EXPECT_NE(SplitCommand("a 'b").status().message().find("unterminated ' quote"),
            std::string::npos);
}

class ResolveProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/exec-resolve-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ + "/bin");
    std::filesystem::create_directories(dir_ + "/path");
    MakeFile(dir_ + "/run.sh", 0755);
    MakeFile(dir_ + "/bin/tool", 0755);
    MakeFile(dir_ + "/data.txt", 0644);
    MakeFile(dir_ + "/path/onpath", 0755);
    MakeFile(dir_ + "/path/notexec", 0644);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static void MakeFile(const std::string& path, mode_t mode) {
    std::ofstream(path) << "#!/bin/sh\n";
    chmod(path.c_str(), mode);
  }
  std::string dir_;
};

TEST_F(ResolveProgramTest, AbsolutePathAsIs) {
  auto p = ResolveProgram(dir_ + "/run.sh", "/nonexistent", "");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(*p, dir_ + "/run.sh");
}

TEST_F(ResolveProgramTest, PathWithSlashIsRelativeToVersionFolder) {
  auto p = ResolveProgram("bin/tool", dir_, "/usr/bin");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(*p, dir_ + "/bin/tool");
  EXPECT_TRUE(ResolveProgram("./run.sh", dir_, "").ok());
}

TEST_F(ResolveProgramTest, BareNamePrefersVersionFolderThenPath) {
  auto local = ResolveProgram("run.sh", dir_, dir_ + "/path");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(*local, dir_ + "/run.sh");
  auto on_path = ResolveProgram("onpath", dir_, "relative:" + dir_ + "/path");
  ASSERT_TRUE(on_path.ok()) << on_path.status().message();
  EXPECT_EQ(*on_path, dir_ + "/path/onpath");
}

TEST_F(ResolveProgramTest, PathEntriesThatAreNotExecutableOrRelativeAreSkipped) {
  auto p = ResolveProgram("notexec", dir_, dir_ + "/path");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("not found"), std::string::npos);
  EXPECT_NE(p.status().message().find(dir_ + "/path"), std::string::npos);
  EXPECT_FALSE(ResolveProgram("onpath", dir_, "path").ok());
}

TEST_F(ResolveProgramTest, MissingNotExecutableAndDirectoryAreErrors) {
  auto missing = ResolveProgram("./nope.py", dir_, "");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos);
  auto not_exec = ResolveProgram("data.txt", dir_, "");
  ASSERT_FALSE(not_exec.ok());
  EXPECT_NE(not_exec.status().message().find("is not executable (mode 0644)"), std::string::npos)
      << not_exec.status().message();
  auto directory = ResolveProgram("bin", dir_, "");
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.status().message().find("not a regular file"), std::string::npos);
}

TEST(QuoteForDisplayTest, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(QuoteForDisplay("/usr/bin/python3"), "/usr/bin/python3");
  EXPECT_EQ(QuoteForDisplay("a b"), "'a b'");
  EXPECT_EQ(QuoteForDisplay("it's"), "'it'\\''s'");
  EXPECT_EQ(QuoteForDisplay(""), "''");
}

}  // namespace
}  // namespace switchyard::exec
