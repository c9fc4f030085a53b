#include "repository/repository.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace switchyard {
namespace {

namespace fs = std::filesystem;

constexpr char kConfig[] =
    "backend: sim\n"
    "inputs: [{name: in, datatype: FP32, shape: [4]}]\n"
    "outputs: [{name: out, datatype: FP32, shape: [4]}]\n";

// A fresh model repository folder per test, removed afterwards.
class RepositoryTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "switchyard_repo_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }

  void WriteFile(const std::string& relative, const std::string& text) {
    const fs::path path = root_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  void MakeDir(const std::string& relative) { fs::create_directories(root_ / relative); }

  // A valid model `name` with the given version folders.
  void AddModel(const std::string& name, std::initializer_list<const char*> versions) {
    WriteFile(name + "/config.yaml", kConfig);
    for (const char* version : versions) MakeDir(name + "/" + version);
  }

  std::string root() const { return root_.string(); }

  fs::path root_;
};

TEST_F(RepositoryTest, ScansModelsSortedByNameWithVersions) {
  AddModel("zeta", {"1"});
  AddModel("alpha", {"10", "2", "1"});
  AddModel("mid", {"3"});
  auto models = ScanRepository(root());
  ASSERT_TRUE(models.ok()) << models.status().ToString();
  ASSERT_EQ(models->size(), 3u);
  EXPECT_EQ((*models)[0].config.name, "alpha");
  EXPECT_EQ((*models)[0].versions, std::vector<int64_t>({1, 2, 10}));
  EXPECT_EQ((*models)[0].path, (root_ / "alpha").string());
  EXPECT_EQ((*models)[0].config.backend, "sim");
  EXPECT_EQ((*models)[1].config.name, "mid");
  EXPECT_EQ((*models)[2].config.name, "zeta");
  EXPECT_EQ((*models)[2].versions, std::vector<int64_t>({1}));
}

TEST_F(RepositoryTest, EmptyRepositoryHasNoModels) {
  auto models = ScanRepository(root());
  ASSERT_TRUE(models.ok()) << models.status().ToString();
  EXPECT_TRUE(models->empty());
}

TEST_F(RepositoryTest, SkipsHiddenFoldersAndPlainFiles) {
  AddModel("m", {"1"});
  MakeDir(".git/objects");
  WriteFile(".cache/config.yaml", "not: valid");
  WriteFile("README.md", "models live here");
  auto models = ScanRepository(root());
  ASSERT_TRUE(models.ok()) << models.status().ToString();
  ASSERT_EQ(models->size(), 1u);
  EXPECT_EQ((*models)[0].config.name, "m");
}

TEST_F(RepositoryTest, IgnoresEntriesThatAreNotVersionFolders) {
  AddModel("m", {"3", "latest", "1a", "01", "0", ".5"});
  WriteFile("m/7", "a file, not a folder");
  WriteFile("m/notes.txt", "x");
  auto models = ScanRepository(root());
  ASSERT_TRUE(models.ok()) << models.status().ToString();
  EXPECT_EQ((*models)[0].versions, std::vector<int64_t>({3}));
}

TEST_F(RepositoryTest, MissingRootIsNotFound) {
  auto models = ScanRepository(root() + "/nope");
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.status().code(), StatusCode::kNotFound);
  EXPECT_NE(models.status().message().find(root() + "/nope"), std::string::npos);
}

TEST_F(RepositoryTest, RootThatIsAFileIsNotFound) {
  WriteFile("file", "x");
  auto models = ScanRepository(root() + "/file");
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.status().code(), StatusCode::kNotFound);
}

TEST_F(RepositoryTest, ModelWithoutConfigFailsNamingTheFile) {
  AddModel("good", {"1"});
  MakeDir("bare/1");
  auto models = ScanRepository(root());
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(models.status().message().find("': bare/config.yaml: missing"), std::string::npos)
      << models.status().message();
}

TEST_F(RepositoryTest, ModelWithoutVersionFailsNamingTheFolder) {
  AddModel("m", {"latest"});
  auto models = ScanRepository(root());
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(models.status().message().starts_with("model repository '" + root() +
                                                    "': m: no version folder"))
      << models.status().message();
}

TEST_F(RepositoryTest, InvalidConfigFailsNamingFileAndField) {
  AddModel("m", {"1"});
  WriteFile("m/config.yaml", std::string(kConfig) + "routing: random\n");
  auto models = ScanRepository(root());
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(models.status().message().starts_with("model repository '" + root() +
                                                    "': m/config.yaml: routing: "))
      << models.status().message();
}

TEST_F(RepositoryTest, ScanModelLoadsOneModel) {
  AddModel("a", {"1"});
  AddModel("b", {"4", "2"});
  auto model = ScanModel(root(), "b");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->config.name, "b");
  EXPECT_EQ(model->versions, std::vector<int64_t>({2, 4}));
}

TEST_F(RepositoryTest, ScanModelUnknownIsNotFound) {
  auto model = ScanModel(root(), "ghost");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_NE(model.status().message().find("ghost"), std::string::npos);
}

// ScanModel's messages reach clients of the repository API: they never say where the
// repository lies.
TEST_F(RepositoryTest, ScanModelErrorsNameNoPathOutsideTheRepository) {
  MakeDir("bare/1");
  AddModel("unversioned", {"latest"});
  for (const char* name : {"ghost", "bare", "unversioned"}) {
    auto model = ScanModel(root(), name);
    ASSERT_FALSE(model.ok()) << name;
    EXPECT_EQ(model.status().message().find(root()), std::string::npos) << model.status().message();
    EXPECT_NE(model.status().message().find(name), std::string::npos) << model.status().message();
  }
}

TEST_F(RepositoryTest, ScanModelRejectsNamesOutsideTheRepository) {
  AddModel("m", {"1"});
  for (const char* name : {"", ".", "..", "../m", "m/1", ".hidden"}) {
    auto model = ScanModel(root(), name);
    ASSERT_FALSE(model.ok()) << name;
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument) << name;
  }
}

}  // namespace
}  // namespace switchyard
