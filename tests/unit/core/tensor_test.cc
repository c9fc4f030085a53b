#include "switchyard/tensor.h"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

TEST(TensorTest, ElementCount) {
  EXPECT_EQ(ElementCount({}), 1);
  EXPECT_EQ(ElementCount({2, 3}), 6);
  EXPECT_EQ(ElementCount({2, 0}), 0);
  EXPECT_EQ(ElementCount({2, -1}), -1);
  EXPECT_EQ(ElementCount({1LL << 40, 1LL << 40}), -1);
}

TEST(TensorTest, HoldsElementsOnlyForTheExactByteCount) {
  EXPECT_TRUE(HoldsElements(DataType::kInt32, 3, 12));
  EXPECT_TRUE(HoldsElements(DataType::kUint8, 0, 0));
  EXPECT_FALSE(HoldsElements(DataType::kInt32, 3, 8));
  EXPECT_FALSE(HoldsElements(DataType::kInt32, 3, 16));
  EXPECT_FALSE(HoldsElements(DataType::kInt32, -1, 8));
  // 2^62 INT32 elements would be 2^64 bytes: it must not wrap around to 0.
  EXPECT_FALSE(HoldsElements(DataType::kInt32, int64_t{1} << 62, 0));
}

TEST(TensorTest, ValidateFixedSize) {
  Tensor t{"x", DataType::kInt32, {2, 2}, TensorData::Owned(std::vector<std::byte>(16))};
  EXPECT_TRUE(t.Validate().ok());
  t.data = TensorData::Owned(std::vector<std::byte>(15));
  Status s = t.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'x'"), std::string::npos);
}

TEST(TensorTest, ValidateRejectsByteSizeOverflow) {
  Tensor t{"big", DataType::kFp64, {1LL << 61}, TensorData::Owned({})};
  Status s = t.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("too large"), std::string::npos);
}

TEST(TensorTest, BytesRoundTrip) {
  std::vector<std::byte> buf;
  AppendBytesElement("ab", buf);
  AppendBytesElement("", buf);
  AppendBytesElement("xyz", buf);
  std::vector<std::string> seen;
  ASSERT_TRUE(ForEachBytesElement(buf, [&](std::string_view e) { seen.emplace_back(e); }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"ab", "", "xyz"}));
  Tensor t{"s", DataType::kBytes, {3}, TensorData::Owned(buf)};
  EXPECT_TRUE(t.Validate().ok());
  t.shape = {2};
  EXPECT_FALSE(t.Validate().ok());
}

TEST(TensorTest, BytesTruncated) {
  std::vector<std::byte> buf;
  AppendBytesElement("hello", buf);
  buf.pop_back();
  EXPECT_FALSE(CountBytesElements(buf).ok());
  buf.resize(3);
  EXPECT_FALSE(CountBytesElements(buf).ok());
}

}  // namespace
}  // namespace switchyard
