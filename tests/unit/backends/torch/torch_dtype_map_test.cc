#include <gtest/gtest.h>

#include "dtype_map.h"
#include "switchyard/backend_sdk/datatype.h"
#include "tensor_spec.h"
#include "torch_model.h"

namespace switchyard::torch_backend {
namespace {

using sdk::ElementSize;

constexpr SyDataType kAllTypes[] = {SY_TYPE_BOOL,   SY_TYPE_UINT8, SY_TYPE_UINT16, SY_TYPE_UINT32,
                                    SY_TYPE_UINT64, SY_TYPE_INT8,  SY_TYPE_INT16,  SY_TYPE_INT32,
                                    SY_TYPE_INT64,  SY_TYPE_FP16,  SY_TYPE_BF16,   SY_TYPE_FP32,
                                    SY_TYPE_FP64,   SY_TYPE_BYTES};

TEST(TorchDtypeMapTest, SupportedTypesRoundTripWithMatchingElementSizes) {
  for (SyDataType type : kAllTypes) {
    const auto scalar = ToScalarType(type);
    EXPECT_EQ(scalar.has_value(), IsSupportedDataType(type)) << DataTypeName(type);
    if (!scalar.has_value()) continue;
    EXPECT_EQ(FromScalarType(*scalar), type) << DataTypeName(type);
    EXPECT_EQ(c10::elementSize(*scalar), ElementSize(type)) << DataTypeName(type);
  }
}

TEST(TorchDtypeMapTest, SpecificMappings) {
  EXPECT_EQ(ToScalarType(SY_TYPE_FP16), c10::ScalarType::Half);
  EXPECT_EQ(ToScalarType(SY_TYPE_BF16), c10::ScalarType::BFloat16);
  EXPECT_EQ(ToScalarType(SY_TYPE_UINT8), c10::ScalarType::Byte);
  EXPECT_EQ(ToScalarType(SY_TYPE_INT8), c10::ScalarType::Char);
  EXPECT_EQ(ToScalarType(SY_TYPE_BOOL), c10::ScalarType::Bool);
  EXPECT_FALSE(ToScalarType(SY_TYPE_BYTES).has_value());
  EXPECT_FALSE(FromScalarType(c10::ScalarType::ComplexFloat).has_value());
  EXPECT_FALSE(FromScalarType(c10::ScalarType::QInt8).has_value());
}

}  // namespace
}  // namespace switchyard::torch_backend
