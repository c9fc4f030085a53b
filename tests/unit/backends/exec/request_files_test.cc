#include "exec/request_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "switchyard/backend_sdk/json.h"

namespace switchyard::exec {
namespace {

using sdk::JsonQuote;  // moved from exec/request_files.h to the backend SDK

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

class RequestFilesTest : public ::testing::Test {
 protected:
  RequestFilesTest() {
    model_.name = "m\"x";
    model_.version = 2;
    model_.max_batch_size = 4;
    model_.inputs = {{"IN0", SY_TYPE_INT32, {2}}, {"IN 1", SY_TYPE_BYTES, {-1}}};
    model_.outputs = {{"OUT0", SY_TYPE_INT32, {2}}, {"OUT1", SY_TYPE_UINT8, {-1}}};
    request_.inputs = {{"IN0", SY_TYPE_INT32, shape0_, Span(data0_)},
                       {"IN 1", SY_TYPE_BYTES, shape1_, Span(data1_)}};
  }
  static std::span<const uint8_t> Span(const std::string& s) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  ModelSpec model_;
  int64_t shape0_[2] = {1, 2};
  int64_t shape1_[2] = {1, 1};
  std::string data0_ = std::string("\x01\x00\x00\x00\x02\x00\x00\x00", 8);
  std::string data1_ = std::string("\x02\x00\x00\x00hi", 6);
  RequestView request_;
};

TEST_F(RequestFilesTest, RequestJsonDescribesInputsWantedOutputsAndParameters) {
  request_.parameters = {{"lang", "en"}, {"q\"", "a b"}};
  std::string json = RequestJson(model_, request_, {false, true});
  EXPECT_EQ(json,
            "{\"protocol\": 1, \"model\": \"m\\\"x\", \"model_version\": 2, "
            "\"max_batch_size\": 4,\n"
            " \"inputs\": [\n"
            "  {\"name\": \"IN0\", \"datatype\": \"INT32\", \"shape\": [1, 2], \"file\": "
            "\"input0.bin\"},\n"
            "  {\"name\": \"IN 1\", \"datatype\": \"BYTES\", \"shape\": [1, 1], \"file\": "
            "\"input1.bin\"}],\n"
            " \"outputs\": [\n"
            "  {\"name\": \"OUT1\", \"datatype\": \"UINT8\", \"file\": \"output1.bin\"}],\n"
            " \"parameters\": {\"lang\": \"en\", \"q\\\"\": \"a b\"}}\n");
}

TEST(JsonQuoteTest, EscapesControlCharacters) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
}

TEST(ParseResponseJsonTest, Outputs) {
  auto r = ParseResponseJson(
      R"({"outputs": [{"name": "A", "shape": [1, 2]}, {"name": "B", "shape": [], "datatype": "FP32"}]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->failed);
  ASSERT_EQ(r->outputs.size(), 2u);
  EXPECT_EQ(r->outputs[0].name, "A");
  EXPECT_EQ(r->outputs[0].shape, (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(r->outputs[0].datatype.has_value());
  EXPECT_EQ(r->outputs[1].datatype, "FP32");
  EXPECT_TRUE(r->outputs[1].shape.empty());
}

TEST(ParseResponseJsonTest, Errors) {
  auto plain = ParseResponseJson(R"({"error": "boom"})");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->failed);
  EXPECT_EQ(plain->error.code(), SY_ERROR_INTERNAL);
  EXPECT_EQ(plain->error.message(), "boom");
  auto invalid = ParseResponseJson(R"({"code": "INVALID_ARGUMENT", "error": "negative"})");
  ASSERT_TRUE(invalid.ok());
  EXPECT_EQ(invalid->error.code(), SY_ERROR_INVALID_ARGUMENT);
}

TEST(ParseResponseJsonTest, RejectsMalformed) {
  for (std::string_view bad :
       {"", "[]", "{", "{}", R"({"outputs": []], })", R"({"outputs": {}})",
        R"({"outputs": [], "error": "x"})", R"({"outputs": [{"name": "A"}]})",
        R"({"outputs": [{"shape": [1]}]})", R"({"outputs": [{"name": "A", "shape": [1.5]}]})",
        R"({"outputs": [{"name": "A", "shape": [1], "extra": 1}]})", R"({"error": 3})",
        R"({"error": "x", "code": "TEAPOT"})", R"({"outputs": [], "code": "INTERNAL"})",
        R"({"result": 1})"}) {
    auto r = ParseResponseJson(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().message().rfind("response.json: ", 0), 0u);
    }
  }
}

TEST_F(RequestFilesTest, TempDirIsPrivateAndRemovedWithContents) {
  std::string path;
  {
    auto dir = TempDir::Create();
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    path = (*dir)->path();
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    std::filesystem::create_directories(path + "/sub/deeper");
    WriteAll(path + "/sub/deeper/f", "x");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(RequestFilesTest, WritesInputsAndReadsOutputsBack) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string& d = (*dir)->path();
  ASSERT_TRUE(WriteRequestFiles(d, model_, request_, {true, true}).ok());
  EXPECT_EQ(ReadAll(d + "/input0.bin"), data0_);
  EXPECT_EQ(ReadAll(d + "/input1.bin"), data1_);
  EXPECT_EQ(ReadAll(d + "/request.json"), RequestJson(model_, request_, {true, true}));

  // What a program would leave behind.
  WriteAll(d + "/output0.bin", std::string(8, '\x07'));
  WriteAll(d + "/output1.bin", "abc");
  WriteAll(d + "/response.json", R"({"outputs": [{"name": "OUT0", "shape": [1, 2]}, )"
                                 R"({"name": "OUT1", "shape": [1, 3], "datatype": "UINT8"}]})");
  auto files = ReadResponseFiles(d, model_);
  ASSERT_TRUE(files.ok()) << files.status().message();
  ASSERT_EQ((*files)->outputs.size(), 2u);
  EXPECT_EQ((*files)->outputs[0].name, "OUT0");
  EXPECT_EQ((*files)->outputs[0].datatype, "INT32");  // from the config
  EXPECT_EQ((*files)->outputs[0].data.size(), 8u);
  EXPECT_EQ((*files)->outputs[1].datatype, "UINT8");
  EXPECT_EQ((*files)->outputs[1].shape, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(std::string((*files)->outputs[1].data.begin(), (*files)->outputs[1].data.end()), "abc");
}

TEST_F(RequestFilesTest, MissingFilesAndUnknownOutputsAreErrors) {
  auto dir = TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string& d = (*dir)->path();
  auto none = ReadResponseFiles(d, model_);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("did not write"), std::string::npos);
  WriteAll(d + "/response.json", R"({"outputs": [{"name": "OUT0", "shape": [1, 2]}]})");
  auto no_data = ReadResponseFiles(d, model_);
  ASSERT_FALSE(no_data.ok());
  EXPECT_NE(no_data.status().message().find("output0.bin"), std::string::npos);
  WriteAll(d + "/response.json", R"({"outputs": [{"name": "ZZZ", "shape": [1, 2]}]})");
  auto unknown = ReadResponseFiles(d, model_);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'ZZZ'"), std::string::npos);
  std::filesystem::create_symlink("/etc/hostname", d + "/output1.bin");
  WriteAll(d + "/response.json", R"({"outputs": [{"name": "OUT1", "shape": [1, 2]}]})");
  EXPECT_FALSE(ReadResponseFiles(d, model_).ok());  // symlinks are not followed
}

}  // namespace
}  // namespace switchyard::exec
