#include "dtype_map.h"

namespace switchyard::torch_backend {

std::optional<c10::ScalarType> ToScalarType(SyDataType datatype) {
  switch (datatype) {
    case SY_TYPE_BOOL:
      return c10::ScalarType::Bool;
    case SY_TYPE_UINT8:
      return c10::ScalarType::Byte;
    case SY_TYPE_INT8:
      return c10::ScalarType::Char;
    case SY_TYPE_INT16:
      return c10::ScalarType::Short;
    case SY_TYPE_INT32:
      return c10::ScalarType::Int;
    case SY_TYPE_INT64:
      return c10::ScalarType::Long;
    case SY_TYPE_FP16:
      return c10::ScalarType::Half;
    case SY_TYPE_BF16:
      return c10::ScalarType::BFloat16;
    case SY_TYPE_FP32:
      return c10::ScalarType::Float;
    case SY_TYPE_FP64:
      return c10::ScalarType::Double;
    default:
      return std::nullopt;
  }
}

std::optional<SyDataType> FromScalarType(c10::ScalarType type) {
  switch (type) {
    case c10::ScalarType::Bool:
      return SY_TYPE_BOOL;
    case c10::ScalarType::Byte:
      return SY_TYPE_UINT8;
    case c10::ScalarType::Char:
      return SY_TYPE_INT8;
    case c10::ScalarType::Short:
      return SY_TYPE_INT16;
    case c10::ScalarType::Int:
      return SY_TYPE_INT32;
    case c10::ScalarType::Long:
      return SY_TYPE_INT64;
    case c10::ScalarType::Half:
      return SY_TYPE_FP16;
    case c10::ScalarType::BFloat16:
      return SY_TYPE_BF16;
    case c10::ScalarType::Float:
      return SY_TYPE_FP32;
    case c10::ScalarType::Double:
      return SY_TYPE_FP64;
    default:
      return std::nullopt;
  }
}

}  // namespace switchyard::torch_backend
