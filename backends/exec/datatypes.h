#pragma once
// The KServe v2 datatypes as the exec protocol names them, their element sizes, and the layout
// of BYTES tensors (each element a 4-byte little-endian length followed by its bytes).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "exec/status.h"
#include "switchyard/backend.h"

namespace switchyard::exec {

// "INT32", "BYTES", ...; "?" for a value outside the enum.
std::string_view DataTypeName(SyDataType datatype);
// The datatype named `name` (exact, case-sensitive KServe name); nullopt when unknown.
std::optional<SyDataType> ParseDataTypeName(std::string_view name);
// Bytes per element; 0 for BYTES (variable-length elements).
size_t ElementSize(SyDataType datatype);

// The product of `shape`; InvalidArgument for a negative dimension or an overflowing product.
StatusOr<uint64_t> ElementCount(std::span<const int64_t> shape);

// Checks that `data` holds exactly `element_count` BYTES elements and nothing else.
Status CheckBytesLayout(std::span<const uint8_t> data, uint64_t element_count);

// Checks that a tensor of `datatype` and `shape` can hold exactly `byte_size` bytes.
Status CheckTensorBytes(SyDataType datatype, std::span<const int64_t> shape,
                        std::span<const uint8_t> data);

}  // namespace switchyard::exec
