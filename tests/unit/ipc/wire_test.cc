#include "ipc/wire.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace switchyard::ipc {
namespace {

std::vector<std::byte> Bytes(std::initializer_list<int> values) {
  std::vector<std::byte> bytes;
  for (int value : values) bytes.push_back(static_cast<std::byte>(value));
  return bytes;
}

TEST(WireTest, IntegersAreLittleEndian) {
  WireWriter w;
  w.PutU8(0xAB);
  w.PutU32(0x01020304);
  w.PutU64(0x0102030405060708);
  w.PutI64(-2);
  EXPECT_EQ(w.bytes(), Bytes({0xAB, 4, 3,    2,    1,    8,    7,    6,    5,    4,   3,
                              2,    1, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
}

TEST(WireTest, EveryKindRoundTrips) {
  const std::vector<int64_t> vector = {0, -1, std::numeric_limits<int64_t>::min(),
                                       std::numeric_limits<int64_t>::max()};
  WireWriter w;
  w.PutU8(255);
  w.PutU32(std::numeric_limits<uint32_t>::max());
  w.PutU64(std::numeric_limits<uint64_t>::max());
  w.PutI64(std::numeric_limits<int64_t>::min());
  w.PutF64(-0.25);
  w.PutF64(std::numeric_limits<double>::infinity());
  w.PutString("");
  w.PutString(std::string("with\0nul", 8));
  w.PutI64Vector(vector);
  w.PutI64Vector({});
  w.PutCount(7);
  const std::vector<std::byte> bytes = std::move(w).Release();

  WireReader r(bytes);
  EXPECT_EQ(*r.ReadU8(), 255);
  EXPECT_EQ(*r.ReadU32(), std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(*r.ReadU64(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(*r.ReadI64(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(*r.ReadF64(), -0.25);
  EXPECT_EQ(*r.ReadF64(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(*r.ReadString(0), "");
  EXPECT_EQ(*r.ReadString(8), std::string("with\0nul", 8));
  EXPECT_EQ(*r.ReadI64Vector(4), vector);
  EXPECT_EQ(*r.ReadI64Vector(0), std::vector<int64_t>());
  EXPECT_EQ(*r.ReadCount(7, 0), 7u);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(r.ExpectEnd().ok());
}

TEST(WireTest, NanKeepsItsBits) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  WireWriter w;
  w.PutF64(nan);
  WireReader r(w.bytes());
  auto read = r.ReadF64();
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(std::isnan(*read));
}

TEST(WireTest, EveryReadOfTooFewBytesFails) {
  const std::vector<std::byte> seven(7);
  WireReader r(seven);
  EXPECT_EQ(r.ReadU64().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.ReadI64().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.ReadF64().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.remaining(), 7u);  // a failed read consumes nothing
  EXPECT_TRUE(r.ReadU32().ok());
  EXPECT_EQ(r.ReadU32().status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(r.ReadU8().ok());
  EXPECT_TRUE(r.ReadU8().ok());
  EXPECT_TRUE(r.ReadU8().ok());
  EXPECT_EQ(r.ReadU8().status().code(), StatusCode::kInvalidArgument);
}

TEST(WireTest, StringLongerThanTheCapFails) {
  WireWriter w;
  w.PutString("12345");
  WireReader r(w.bytes());
  EXPECT_EQ(r.ReadString(4).status().code(), StatusCode::kInvalidArgument);
}

TEST(WireTest, LengthBeyondWhatRemainsFails) {
  WireWriter w;
  w.PutU32(6);
  w.PutU32(0);  // only 4 bytes follow
  WireReader strings(w.bytes());
  EXPECT_EQ(strings.ReadString(1 << 20).status().code(), StatusCode::kInvalidArgument);

  WireWriter huge;
  huge.PutU32(std::numeric_limits<uint32_t>::max());
  huge.PutI64(1);
  // No cap from the caller: the bytes that remain bound the count (and the allocation).
  WireReader vectors(huge.bytes());
  auto read = vectors.ReadI64Vector(std::numeric_limits<std::size_t>::max());
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  WireReader strings2(huge.bytes());
  EXPECT_EQ(strings2.ReadString(std::numeric_limits<std::size_t>::max()).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(WireTest, CountIsCheckedAgainstCapAndElementSize) {
  WireWriter w;
  w.PutCount(3);
  w.PutU64(0);
  w.PutU64(0);
  w.PutU64(0);  // 24 bytes follow
  EXPECT_TRUE(WireReader(w.bytes()).ReadCount(3, 8).ok());
  EXPECT_EQ(WireReader(w.bytes()).ReadCount(2, 8).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WireReader(w.bytes()).ReadCount(3, 9).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WireReader(w.bytes()).ReadI64Vector(2).status().code(), StatusCode::kInvalidArgument);
}

TEST(WireTest, TrailingBytesAreReported) {
  const std::vector<std::byte> bytes(3);
  WireReader r(bytes);
  EXPECT_EQ(r.ExpectEnd().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(r.ReadU8().ok());
  ASSERT_TRUE(r.ReadU8().ok());
  ASSERT_TRUE(r.ReadU8().ok());
  EXPECT_TRUE(r.ExpectEnd().ok());
}

}  // namespace
}  // namespace switchyard::ipc
