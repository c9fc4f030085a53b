#pragma once
// SyDataType <-> libtorch's c10::ScalarType, for the types both have in libtorch 1.13 and 2.x.

#include <c10/core/ScalarType.h>

#include <optional>

#include "switchyard/backend.h"

namespace switchyard::torch_backend {

// The torch type of `datatype`; nullopt for BYTES and unsigned types wider than 8 bits.
std::optional<c10::ScalarType> ToScalarType(SyDataType datatype);

// The KServe datatype of `type`; nullopt for torch types without one (complex, quantized, ...).
std::optional<SyDataType> FromScalarType(c10::ScalarType type);

}  // namespace switchyard::torch_backend
