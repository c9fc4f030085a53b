#include "exec/output_check.h"

#include <gtest/gtest.h>

#include "exec/datatypes.h"
#include "switchyard/backend_sdk/datatype.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {
namespace {

using sdk::DataTypeName;
using sdk::ElementSize;
using sdk::ParseDataTypeName;
using sdk::Status;

std::span<const uint8_t> Bytes(const std::string& s) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string BytesElements(std::initializer_list<std::string> elements) {
  std::string out;
  for (const std::string& e : elements) {
    uint32_t n = static_cast<uint32_t>(e.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    out += e;
  }
  return out;
}

TEST(DataTypesTest, NamesAndSizes) {
  EXPECT_EQ(DataTypeName(SY_TYPE_BF16), "BF16");
  EXPECT_EQ(ParseDataTypeName("FP64"), SY_TYPE_FP64);
  EXPECT_EQ(ParseDataTypeName("fp64"), std::nullopt);
  EXPECT_EQ(ElementSize(SY_TYPE_INT64), 8u);
  EXPECT_EQ(ElementSize(SY_TYPE_BOOL), 1u);
  EXPECT_EQ(ElementSize(SY_TYPE_BYTES), 0u);
  for (int t = SY_TYPE_BOOL; t <= SY_TYPE_BYTES; ++t) {
    auto dt = static_cast<SyDataType>(t);
    EXPECT_EQ(ParseDataTypeName(DataTypeName(dt)), dt);
  }
}

TEST(DataTypesTest, BytesLayout) {
  std::string two = BytesElements({"ab", ""});
  EXPECT_TRUE(CheckBytesLayout(Bytes(two), 2).ok());
  EXPECT_FALSE(CheckBytesLayout(Bytes(two), 1).ok());  // trailing bytes
  EXPECT_FALSE(CheckBytesLayout(Bytes(two), 3).ok());  // missing element
  EXPECT_FALSE(CheckBytesLayout(Bytes(two.substr(0, 5)), 2).ok());
  std::string lying("\xff\xff\xff\xff", 4);
  EXPECT_FALSE(CheckBytesLayout(Bytes(lying), 1).ok());
  EXPECT_TRUE(CheckBytesLayout({}, 0).ok());
}

TEST(DataTypesTest, ElementCountOverflowAndNegative) {
  int64_t neg[] = {2, -1};
  EXPECT_FALSE(ElementCount(neg).ok());
  int64_t huge[] = {int64_t{1} << 40, int64_t{1} << 40};
  EXPECT_FALSE(ElementCount(huge).ok());
  int64_t zero[] = {0, int64_t{1} << 62};
  ASSERT_TRUE(ElementCount(zero).ok());
  EXPECT_EQ(*ElementCount(zero), 0u);
}

class OutputCheckTest : public ::testing::Test {
 protected:
  OutputCheckTest() {
    model_.max_batch_size = 4;
    model_.outputs = {
        {"SUM", SY_TYPE_INT32, {2}}, {"TEXT", SY_TYPE_BYTES, {-1}}, {"EXTRA", SY_TYPE_FP32, {1}}};
  }
  ModelSpec model_;
  std::string sum_data_ = std::string(16, '\0');  // 2 x 2 INT32
  std::string text_data_ = BytesElements({"x", "yz", "", "w"});
};

TEST_F(OutputCheckTest, AcceptsMatchingOutputs) {
  OutputTensor sum{"SUM", "INT32", {2, 2}, Bytes(sum_data_)};
  EXPECT_TRUE(CheckOutput(model_.outputs[0], true, 2, sum).ok());
  OutputTensor text{"TEXT", "BYTES", {2, 2}, Bytes(text_data_)};
  EXPECT_TRUE(CheckOutput(model_.outputs[1], true, 2, text).ok());
  OutputTensor unbatched{"SUM", "INT32", {2}, Bytes(sum_data_.substr(0, 8))};
  EXPECT_TRUE(CheckOutput(model_.outputs[0], false, 0, unbatched).ok());
}

TEST_F(OutputCheckTest, RejectsWrongDatatypeShapeOrBytes) {
  struct Case {
    OutputTensor tensor;
    int64_t batch;
    std::string expect;
  };
  std::string short_data = sum_data_.substr(0, 12);
  std::vector<Case> cases = {
      {{"SUM", "INT64", {2, 2}, Bytes(sum_data_)},
       2,
       "returned INT64 but the config declares INT32"},
      {{"SUM", "INT33", {2, 2}, Bytes(sum_data_)}, 2, "unknown datatype 'INT33'"},
      {{"SUM", "INT32", {4}, Bytes(sum_data_)},
       2,
       "returned shape [4] but the config expects [2, 2]"},
      {{"SUM", "INT32", {1, 4}, Bytes(sum_data_)}, 2, "expects [2, 2]"},
      {{"SUM", "INT32", {2, 2}, Bytes(sum_data_)}, 3, "expects [3, 2]"},
      {{"SUM", "INT32", {2, 2}, Bytes(short_data)}, 2, "12 bytes do not hold 4 INT32 elements"},
      {{"TEXT", "BYTES", {2, -1}, Bytes(text_data_)}, 2, "returned shape [2, -1]"},
      {{"TEXT", "BYTES", {2, 3}, Bytes(text_data_)}, 2, "BYTES data ends"},
  };
  for (const Case& c : cases) {
    const TensorInfo& spec = c.tensor.name == "SUM" ? model_.outputs[0] : model_.outputs[1];
    Status s = CheckOutput(spec, true, c.batch, c.tensor);
    ASSERT_FALSE(s.ok()) << c.expect;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("output '" + spec.name + "'"), std::string::npos);
  }
}

TEST_F(OutputCheckTest, MatchOutputsPicksWantedAndIgnoresUnwanted) {
  std::vector<OutputTensor> outputs = {{"TEXT", "BYTES", {2, 2}, Bytes(text_data_)},
                                       {"SUM", "WHATEVER", {9}, {}}};
  // SUM was not asked for: returned anyway, it is not checked and not used.
  auto m = MatchOutputs(model_, {false, true, false}, 2, outputs);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ((*m)[0], nullptr);
  EXPECT_EQ((*m)[1], &outputs[0]);
  EXPECT_EQ((*m)[2], nullptr);
}

TEST_F(OutputCheckTest, MatchOutputsErrors) {
  OutputTensor sum{"SUM", "INT32", {2, 2}, Bytes(sum_data_)};
  OutputTensor unknown{"NOPE", "INT32", {2, 2}, Bytes(sum_data_)};
  auto missing = MatchOutputs(model_, {true, true, false}, 2, {sum});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("did not return the requested output 'TEXT'"),
            std::string::npos);
  auto dup = MatchOutputs(model_, {true, false, false}, 2, {sum, sum});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("'SUM' twice"), std::string::npos);
  auto unk = MatchOutputs(model_, {true, false, false}, 2, {sum, unknown});
  ASSERT_FALSE(unk.ok());
  EXPECT_NE(unk.status().message().find("'NOPE', which the config does not declare"),
            std::string::npos);
  auto bad = MatchOutputs(model_, {true, false, false}, 3, {sum});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), SY_ERROR_INTERNAL);
}

}  // namespace
}  // namespace switchyard::exec
