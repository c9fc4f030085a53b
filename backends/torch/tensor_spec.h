#pragma once
// Tensor metadata the torch plugin works with, and the checks on it. Pure: no torch.

#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/backend.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::torch_backend {

using Dims = std::vector<int64_t>;

// An input or output as config.yaml declares it (an owned copy of SyTensorSpec): without the
// batch dimension, -1 for a variable dimension.
struct TensorSpec {
  std::string name;
  SyDataType datatype = SY_TYPE_FP32;
  Dims dims;
};

TensorSpec CopySpec(const SyTensorSpec& spec);

// The KServe v2 name of a datatype ("FP32", sdk::DataTypeName), for messages; "UNKNOWN(<n>)" for
// a value outside the enum.
std::string DataTypeName(SyDataType datatype);

// "[2,3,-1]".
std::string DimsText(const Dims& dims);

// Whether `shape` matches the config `dims` (-1 in `dims` accepts any size >= 0), with a leading
// batch dimension of any size >= 0 in `shape` when `batched`.
bool ShapeMatches(const Dims& dims, const Dims& shape, bool batched);

// Elements of `shape`; false when a dimension is negative or the product overflows 2^62.
bool ElementCount(const Dims& shape, uint64_t* count);

// Checks one request's tensor against its spec: datatype, rank, fixed dimensions, a batch
// dimension >= 1 when `batched`, and that `byte_size` is the shape's size.
// SY_ERROR_INVALID_ARGUMENT naming the tensor.
sdk::Status ValidateRequestTensor(const TensorSpec& spec, SyDataType datatype, const Dims& shape,
                                  uint64_t byte_size, bool batched);

// Checks an output the model produced against its spec: `shape` must match the config dims and,
// when batched, have `expected_rows` rows. SY_ERROR_INTERNAL naming the output.
sdk::Status ValidateModelOutput(const TensorSpec& spec, const Dims& shape, bool batched,
                                int64_t expected_rows);

}  // namespace switchyard::torch_backend
