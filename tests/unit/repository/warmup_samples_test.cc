// LoadWarmupSamples: the files of <model>/warmup/ as the warm-up request of an HTTP envelope
// model, and the warm-up request count it settles.
#include "repository/warmup_samples.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "fmt/format.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
using ::testing::HasSubstr;

ModelConfig EnvelopeModel() {
  ModelConfig config;
  config.name = "m";
  config.backend = "python";
  config.inputs.push_back({"request", DataType::kBytes, {1}});
  config.outputs.push_back({"response", DataType::kBytes, {1}});
  config.http_envelope = true;
  return config;
}

// A fresh model folder per test (<tmp>/m), removed afterwards. Messages show it as "shown/m".
class WarmupSamplesTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "switchyard_warmup_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    fs::create_directories(model_dir());
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path model_dir() const { return root_ / "m"; }

  void WriteSample(const std::string& name, const std::string& data) {
    const fs::path path = model_dir() / "warmup" / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << data;
  }

  Status Load(ModelConfig* config) {
    return LoadWarmupSamples(model_dir().string(), "shown/m", config);
  }

  fs::path root_;
};

TEST_F(WarmupSamplesTest, NoWarmupFolderMeansNoWarmUp) {
  ModelConfig config = EnvelopeModel();
  ASSERT_EQ(config.warmup.requests, 4);  // the default, before the samples settle it
  ASSERT_TRUE(Load(&config).ok());
  EXPECT_EQ(config.warmup.requests, 0);
  EXPECT_TRUE(config.warmup.samples.empty());
}

TEST_F(WarmupSamplesTest, EmptyWarmupFolderMeansNoWarmUp) {
  fs::create_directories(model_dir() / "warmup");
  ModelConfig config = EnvelopeModel();
  ASSERT_TRUE(Load(&config).ok());
  EXPECT_EQ(config.warmup.requests, 0);
  EXPECT_TRUE(config.warmup.samples.empty());
}

TEST_F(WarmupSamplesTest, FilesBecomeFormFieldsInNameOrder) {
  const std::string png = "\x89PNG\r\n\x1a\n\0\xff"s;
  WriteSample("question.txt", "what is it?");
  WriteSample("image.png", png);
  ModelConfig config = EnvelopeModel();
  ASSERT_TRUE(Load(&config).ok());
  EXPECT_EQ(config.warmup.requests, 1);
  const std::vector<WarmupSample>& samples = config.warmup.samples;
  ASSERT_EQ(samples.size(), 2u);
  // A file part: its name without the extension, its file name and the extension's type.
  EXPECT_EQ(samples[0].name, "image");
  EXPECT_EQ(samples[0].filename, "image.png");
  EXPECT_EQ(samples[0].content_type, "image/png");
  EXPECT_EQ(samples[0].data, png);
  // A .txt file is a text field: no file name, no content type.
  EXPECT_EQ(samples[1].name, "question");
  EXPECT_EQ(samples[1].filename, "");
  EXPECT_EQ(samples[1].content_type, "");
  EXPECT_EQ(samples[1].data, "what is it?");
}

TEST_F(WarmupSamplesTest, TextFilesAreFieldsWhateverTheCaseOfTheirExtension) {
  WriteSample("NOTE.TXT", "shout");
  ModelConfig config = EnvelopeModel();
  ASSERT_TRUE(Load(&config).ok());
  ASSERT_EQ(config.warmup.samples.size(), 1u);
  EXPECT_EQ(config.warmup.samples[0].name, "NOTE");
  EXPECT_EQ(config.warmup.samples[0].filename, "");
  EXPECT_EQ(config.warmup.samples[0].content_type, "");
}

TEST_F(WarmupSamplesTest, FileWithoutKnownExtensionIsOctetStream) {
  WriteSample("tensor.npy", "abc");
  WriteSample("blob", "xyz");
  ModelConfig config = EnvelopeModel();
  ASSERT_TRUE(Load(&config).ok());
  const std::vector<WarmupSample>& samples = config.warmup.samples;
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].name, "blob");
  EXPECT_EQ(samples[0].filename, "blob");
  EXPECT_EQ(samples[0].content_type, "application/octet-stream");
  EXPECT_EQ(samples[1].name, "tensor");
  EXPECT_EQ(samples[1].filename, "tensor.npy");
  EXPECT_EQ(samples[1].content_type, "application/octet-stream");
}

TEST_F(WarmupSamplesTest, OnlyBodyFileIsTheWholeBody) {
  WriteSample("body.json", R"({"x": [1, 2]})");
  ModelConfig config = EnvelopeModel();
  ASSERT_TRUE(Load(&config).ok());
  EXPECT_EQ(config.warmup.requests, 1);
  ASSERT_EQ(config.warmup.samples.size(), 1u);
  const WarmupSample& body = config.warmup.samples[0];
  EXPECT_EQ(body.name, "");
  EXPECT_EQ(body.filename, "");
  EXPECT_EQ(body.content_type, "application/json");
  EXPECT_EQ(body.data, R"({"x": [1, 2]})");
}

TEST_F(WarmupSamplesTest, BodyTextFileIsTheWholeBodyWithItsType) {
  WriteSample("body.txt", "hello");
  ModelConfig config = EnvelopeModel();
  ASSERT_TRUE(Load(&config).ok());
  ASSERT_EQ(config.warmup.samples.size(), 1u);
  EXPECT_EQ(config.warmup.samples[0].name, "");
  EXPECT_EQ(config.warmup.samples[0].content_type, "text/plain; charset=utf-8");
}

TEST_F(WarmupSamplesTest, BodyFileBesideOthersIsAField) {
  WriteSample("body.json", "{}");
  WriteSample("image.png", "png");
  ModelConfig config = EnvelopeModel();
  ASSERT_TRUE(Load(&config).ok());
  const std::vector<WarmupSample>& samples = config.warmup.samples;
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].name, "body");
  EXPECT_EQ(samples[0].filename, "body.json");
  EXPECT_EQ(samples[0].content_type, "application/json");
  EXPECT_EQ(samples[1].name, "image");
}

TEST_F(WarmupSamplesTest, HiddenFilesAndFoldersAreSkipped) {
  WriteSample(".DS_Store", "junk");
  WriteSample(".hidden.png", "junk");
  WriteSample("sub/inner.png", "nested");
  WriteSample("image.png", "png");
  ModelConfig config = EnvelopeModel();
  ASSERT_TRUE(Load(&config).ok());
  ASSERT_EQ(config.warmup.samples.size(), 1u);
  EXPECT_EQ(config.warmup.samples[0].name, "image");
  EXPECT_EQ(config.warmup.samples[0].data, "png");
}

TEST_F(WarmupSamplesTest, OnlyHiddenFilesMeansNoWarmUp) {
  WriteSample(".DS_Store", "junk");
  ModelConfig config = EnvelopeModel();
  ASSERT_TRUE(Load(&config).ok());
  EXPECT_EQ(config.warmup.requests, 0);
  EXPECT_TRUE(config.warmup.samples.empty());
}

TEST_F(WarmupSamplesTest, RequestsGivenWithoutSamplesIsRefusedNamingTheFolder) {
  ModelConfig config = EnvelopeModel();
  config.warmup.requests = 2;
  config.warmup.requests_given = true;
  Status status = Load(&config);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("shown/m/config.yaml"));
  EXPECT_THAT(status.message(), HasSubstr("warmup.requests"));
  EXPECT_THAT(status.message(), HasSubstr("shown/m/warmup/"));
  EXPECT_THAT(status.message(), testing::Not(HasSubstr(root_.string())));
}

TEST_F(WarmupSamplesTest, RequestsGivenAsZeroWithoutSamplesIsFine) {
  ModelConfig config = EnvelopeModel();
  config.warmup.requests = 0;
  config.warmup.requests_given = true;
  ASSERT_TRUE(Load(&config).ok());
  EXPECT_EQ(config.warmup.requests, 0);
}

TEST_F(WarmupSamplesTest, RequestsGivenWithSamplesAreKept) {
  WriteSample("image.png", "png");
  ModelConfig config = EnvelopeModel();
  config.warmup.requests = 3;
  config.warmup.requests_given = true;
  ASSERT_TRUE(Load(&config).ok());
  EXPECT_EQ(config.warmup.requests, 3);
  EXPECT_EQ(config.warmup.samples.size(), 1u);
}

TEST_F(WarmupSamplesTest, RequestsGivenAsZeroWithSamplesAreKept) {
  WriteSample("image.png", "png");
  ModelConfig config = EnvelopeModel();
  config.warmup.requests = 0;
  config.warmup.requests_given = true;
  ASSERT_TRUE(Load(&config).ok());
  EXPECT_EQ(config.warmup.requests, 0);
}

TEST_F(WarmupSamplesTest, ModelThatIsNotAnEnvelopeModelIsUntouched) {
  WriteSample("image.png", "png");
  ModelConfig config = EnvelopeModel();
  config.http_envelope = false;
  ASSERT_TRUE(Load(&config).ok());
  EXPECT_EQ(config.warmup.requests, 4);
  EXPECT_TRUE(config.warmup.samples.empty());

  // Not even a limit applies to it.
  for (int i = 0; i < 65; ++i) WriteSample(fmt::format("f{:02}.bin", i), "x");
  ASSERT_TRUE(Load(&config).ok());
  EXPECT_TRUE(config.warmup.samples.empty());
}

TEST_F(WarmupSamplesTest, SixtyFourFilesAreAccepted) {
  for (int i = 0; i < 64; ++i) WriteSample(fmt::format("f{:02}.bin", i), std::to_string(i));
  ModelConfig config = EnvelopeModel();
  ASSERT_TRUE(Load(&config).ok());
  ASSERT_EQ(config.warmup.samples.size(), 64u);
  EXPECT_EQ(config.warmup.samples[0].name, "f00");
  EXPECT_EQ(config.warmup.samples[63].name, "f63");
  EXPECT_EQ(config.warmup.samples[63].data, "63");
}

TEST_F(WarmupSamplesTest, MoreThanSixtyFourFilesAreRefused) {
  for (int i = 0; i < 65; ++i) WriteSample(fmt::format("f{:02}.bin", i), "x");
  WriteSample(".hidden", "not counted");
  ModelConfig config = EnvelopeModel();
  Status status = Load(&config);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("shown/m/warmup"));
  EXPECT_THAT(status.message(), HasSubstr("65 files"));
}

// The 64 MiB bound on the samples together. The files are sparse: cheap to make.
TEST_F(WarmupSamplesTest, SamplesOverSixtyFourMiBAreRefused) {
  WriteSample("a.bin", "");
  WriteSample("b.bin", "");
  fs::resize_file(model_dir() / "warmup" / "a.bin", 32u << 20);
  fs::resize_file(model_dir() / "warmup" / "b.bin", (32u << 20) + 1);
  ModelConfig config = EnvelopeModel();
  Status status = Load(&config);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("shown/m/warmup"));
  EXPECT_THAT(status.message(), HasSubstr("64 MiB"));
}

TEST_F(WarmupSamplesTest, SamplesOfExactlySixtyFourMiBAreAccepted) {
  WriteSample("a.bin", "");
  WriteSample("b.bin", "");
  fs::resize_file(model_dir() / "warmup" / "a.bin", 32u << 20);
  fs::resize_file(model_dir() / "warmup" / "b.bin", 32u << 20);
  ModelConfig config = EnvelopeModel();
  ASSERT_TRUE(Load(&config).ok());
  ASSERT_EQ(config.warmup.samples.size(), 2u);
  EXPECT_EQ(config.warmup.samples[1].data.size(), 32u << 20);
}

}  // namespace
}  // namespace switchyard
