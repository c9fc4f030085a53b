#include "switchyard/tensor.h"

#include <cstring>
#include <limits>

#include "fmt/format.h"

namespace switchyard {

int64_t ElementCount(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return -1;
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) return -1;
    count *= dim;
  }
  return count;
}

std::string ShapeToString(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ",")); }

bool HoldsElements(DataType datatype, int64_t count, uint64_t bytes) {
  const uint64_t element_size = DataTypeSize(datatype);
  return count >= 0 && static_cast<uint64_t>(count) <= bytes / element_size &&
         static_cast<uint64_t>(count) * element_size == bytes;
}

TensorData TensorData::Owned(std::vector<std::byte> bytes) {
  TensorData data;
  data.owned_ = std::move(bytes);
  data.view_ = data.owned_;
  return data;
}

TensorData TensorData::Shared(std::span<const std::byte> bytes,
                              std::shared_ptr<const void> keeper) {
  TensorData data;
  data.keeper_ = std::move(keeper);
  data.view_ = bytes;
  return data;
}

TensorData TensorData::Borrowed(std::span<const std::byte> bytes) {
  TensorData data;
  data.view_ = bytes;
  return data;
}

Status Tensor::Validate() const {
  int64_t count = ElementCount(shape);
  if (count < 0) {
    return InvalidArgument(
        fmt::format("tensor '{}': invalid shape {}", name, ShapeToString(shape)));
  }
  if (datatype == DataType::kBytes) {
    auto elements = CountBytesElements(data.bytes());
    if (!elements.ok()) {
      return InvalidArgument(fmt::format("tensor '{}': {}", name, elements.status().message()));
    }
    if (*elements != count) {
      return InvalidArgument(fmt::format("tensor '{}': shape {} needs {} BYTES elements, got {}",
                                         name, ShapeToString(shape), count, *elements));
    }
    return Status::Ok();
  }
  std::size_t element_size = DataTypeSize(datatype);
  if (static_cast<uint64_t>(count) > std::numeric_limits<uint64_t>::max() / element_size) {
    return InvalidArgument(
        fmt::format("tensor '{}': shape {} is too large", name, ShapeToString(shape)));
  }
  auto expected = static_cast<uint64_t>(count) * element_size;
  if (data.size() != expected) {
    return InvalidArgument(fmt::format("tensor '{}': shape {} of {} needs {} bytes, got {}", name,
                                       ShapeToString(shape), DataTypeName(datatype), expected,
                                       data.size()));
  }
  return Status::Ok();
}

Status ForEachBytesElement(std::span<const std::byte> buffer,
                           const std::function<void(std::string_view)>& fn) {
  std::size_t pos = 0;
  while (pos < buffer.size()) {
    if (buffer.size() - pos < 4) {
      return InvalidArgument("BYTES data truncated inside an element's 4-byte length");
    }
    uint32_t length = 0;
    for (int i = 0; i < 4; ++i) length |= std::to_integer<uint32_t>(buffer[pos + i]) << (8 * i);
    pos += 4;
    if (buffer.size() - pos < length) {
      return InvalidArgument(
          fmt::format("BYTES element of length {} runs past the end of the data ({} bytes left)",
                      length, buffer.size() - pos));
    }
    fn(std::string_view(reinterpret_cast<const char*>(buffer.data() + pos), length));
    pos += length;
  }
  return Status::Ok();
}

StatusOr<int64_t> CountBytesElements(std::span<const std::byte> buffer) {
  int64_t count = 0;
  RETURN_IF_ERROR(ForEachBytesElement(buffer, [&](std::string_view) { ++count; }));
  return count;
}

}  // namespace switchyard
