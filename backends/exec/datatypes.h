#pragma once
// Element counts and the checks that a tensor's bytes fit its datatype and shape, including the
// layout of BYTES tensors (each element a 4-byte little-endian length followed by its bytes).
// Datatype names and element sizes: switchyard/backend_sdk/datatype.h.

#include <cstddef>
#include <cstdint>
#include <span>

#include "switchyard/backend.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {

// The product of `shape`; InvalidArgument for a negative dimension or an overflowing product.
sdk::StatusOr<uint64_t> ElementCount(std::span<const int64_t> shape);

// Checks that `data` holds exactly `element_count` BYTES elements and nothing else.
sdk::Status CheckBytesLayout(std::span<const uint8_t> data, uint64_t element_count);

// Checks that a tensor of `datatype` and `shape` can hold exactly `byte_size` bytes.
sdk::Status CheckTensorBytes(SyDataType datatype, std::span<const int64_t> shape,
                             std::span<const uint8_t> data);

}  // namespace switchyard::exec
