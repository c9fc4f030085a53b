#include <gtest/gtest.h>

#include "switchyard/backend_sdk/datatype.h"

namespace switchyard::sdk {
namespace {

constexpr SyDataType kAll[] = {SY_TYPE_BOOL,   SY_TYPE_UINT8, SY_TYPE_UINT16, SY_TYPE_UINT32,
                               SY_TYPE_UINT64, SY_TYPE_INT8,  SY_TYPE_INT16,  SY_TYPE_INT32,
                               SY_TYPE_INT64,  SY_TYPE_FP16,  SY_TYPE_BF16,   SY_TYPE_FP32,
                               SY_TYPE_FP64,   SY_TYPE_BYTES};

TEST(BackendSdkDataTypeTest, ElementSizeOfEveryDatatype) {
  EXPECT_EQ(ElementSize(SY_TYPE_BOOL), 1u);
  EXPECT_EQ(ElementSize(SY_TYPE_UINT8), 1u);
  EXPECT_EQ(ElementSize(SY_TYPE_INT8), 1u);
  EXPECT_EQ(ElementSize(SY_TYPE_UINT16), 2u);
  EXPECT_EQ(ElementSize(SY_TYPE_INT16), 2u);
  EXPECT_EQ(ElementSize(SY_TYPE_FP16), 2u);
  EXPECT_EQ(ElementSize(SY_TYPE_BF16), 2u);
  EXPECT_EQ(ElementSize(SY_TYPE_UINT32), 4u);
  EXPECT_EQ(ElementSize(SY_TYPE_INT32), 4u);
  EXPECT_EQ(ElementSize(SY_TYPE_FP32), 4u);
  EXPECT_EQ(ElementSize(SY_TYPE_UINT64), 8u);
  EXPECT_EQ(ElementSize(SY_TYPE_INT64), 8u);
  EXPECT_EQ(ElementSize(SY_TYPE_FP64), 8u);
  EXPECT_EQ(ElementSize(SY_TYPE_BYTES), 0u);
  EXPECT_EQ(ElementSize(99), 0u);
  static_assert(ElementSize(SY_TYPE_FP16) == 2, "usable in constant expressions");
}

// The cuda plugin's former ElementBytes test (cuda_config_test), against the SDK.
TEST(BackendSdkDataTypeTest, ElementSizeAsTheCudaPluginUsesIt) {
  EXPECT_EQ(ElementSize(SY_TYPE_BOOL), 1u);
  EXPECT_EQ(ElementSize(SY_TYPE_UINT16), 2u);
  EXPECT_EQ(ElementSize(SY_TYPE_BF16), 2u);
  EXPECT_EQ(ElementSize(SY_TYPE_INT32), 4u);
  EXPECT_EQ(ElementSize(SY_TYPE_FP64), 8u);
  EXPECT_EQ(ElementSize(SY_TYPE_BYTES), 0u);
}

TEST(BackendSdkDataTypeTest, NamesRoundTrip) {
  for (SyDataType datatype : kAll) {
    EXPECT_EQ(ParseDataTypeName(DataTypeName(datatype)), datatype) << DataTypeName(datatype);
  }
  EXPECT_EQ(DataTypeName(SY_TYPE_BF16), "BF16");
  EXPECT_EQ(DataTypeName(SY_TYPE_BYTES), "BYTES");
}

TEST(BackendSdkDataTypeTest, UnknownValuesAndNames) {
  EXPECT_EQ(DataTypeName(14), "?");
  EXPECT_EQ(DataTypeName(-1, "unknown"), "unknown");
  EXPECT_EQ(ParseDataTypeName("fp32"), std::nullopt);  // names are case-sensitive
  EXPECT_EQ(ParseDataTypeName("FP32 "), std::nullopt);
  EXPECT_EQ(ParseDataTypeName(""), std::nullopt);
  EXPECT_EQ(ParseDataTypeName("?"), std::nullopt);
}

}  // namespace
}  // namespace switchyard::sdk
