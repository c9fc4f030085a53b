#pragma once
// Tensors as the core sees them: a name, a datatype, a shape and raw bytes.
//
// Byte layout (the same as the KServe v2 binary tensor extension): little-endian, row-major.
// A BYTES tensor holds its elements one after another, each as a 4-byte little-endian length
// followed by that many bytes.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/backend_sdk/bytes.h"
#include "switchyard/datatype.h"
#include "switchyard/status.h"

namespace switchyard {

using Shape = std::vector<int64_t>;

// Product of the dimensions (1 for a scalar). -1 if any dimension is negative or it overflows.
int64_t ElementCount(const Shape& shape);

// "[2,16]"
std::string ShapeToString(const Shape& shape);

// Whether `bytes` are exactly `count` elements of the fixed-size `datatype`: false for a negative
// count and for one whose bytes would not fit in 64 bits. REQUIRES: datatype is not kBytes.
bool HoldsElements(DataType datatype, int64_t count, uint64_t bytes);

// The bytes of a tensor: owned; shared (memory kept alive by `keeper`, e.g. a worker's output
// block, which several tensors may hold); or borrowed from memory whose owner guarantees it
// outlives this object (e.g. the HTTP body kept by the InferRequest). Move-only; moving keeps
// bytes() where it is.
class TensorData {
 public:
  TensorData() = default;
  static TensorData Owned(std::vector<std::byte> bytes);
  static TensorData Shared(std::span<const std::byte> bytes, std::shared_ptr<const void> keeper);
  static TensorData Borrowed(std::span<const std::byte> bytes);

  TensorData(TensorData&&) noexcept = default;
  TensorData& operator=(TensorData&&) noexcept = default;
  TensorData(const TensorData&) = delete;
  TensorData& operator=(const TensorData&) = delete;

  std::span<const std::byte> bytes() const { return view_; }
  std::size_t size() const { return view_.size(); }
  // Whether the bytes live as long as this object (owned or shared), not borrowed.
  bool owned() const { return !owned_.empty() || keeper_ != nullptr || view_.empty(); }

 private:
  std::vector<std::byte> owned_;
  std::shared_ptr<const void> keeper_;
  std::span<const std::byte> view_;
};

struct Tensor {
  std::string name;
  DataType datatype = DataType::kFp32;
  Shape shape;
  TensorData data;

  // OK when the byte size matches shape and datatype (for BYTES: the elements parse and their
  // number matches the shape). The message names the tensor.
  Status Validate() const;
};

// Appends one BYTES element (length prefix + bytes) to `out` (the backend SDK's).
using sdk::AppendBytesElement;

// Calls `fn` for each element of a BYTES buffer. InvalidArgument if the buffer is truncated.
Status ForEachBytesElement(std::span<const std::byte> buffer,
                           const std::function<void(std::string_view)>& fn);

// Number of elements in a BYTES buffer, or InvalidArgument if it is truncated.
StatusOr<int64_t> CountBytesElements(std::span<const std::byte> buffer);

}  // namespace switchyard
