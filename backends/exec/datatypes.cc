#include "exec/datatypes.h"

#include <string>

#include "switchyard/backend_sdk/datatype.h"

namespace switchyard::exec {

sdk::StatusOr<uint64_t> ElementCount(std::span<const int64_t> shape) {
  uint64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) return sdk::InvalidArgument("negative dimension " + std::to_string(d));
    if (d != 0 && count > UINT64_MAX / static_cast<uint64_t>(d)) {
      return sdk::InvalidArgument("shape has too many elements");
    }
    count *= static_cast<uint64_t>(d);
  }
  return count;
}

sdk::Status CheckBytesLayout(std::span<const uint8_t> data, uint64_t element_count) {
  size_t pos = 0;
  for (uint64_t i = 0; i < element_count; ++i) {
    if (data.size() - pos < 4) {
      return sdk::InvalidArgument("BYTES data ends inside the length of element " +
                                  std::to_string(i) + " of " + std::to_string(element_count));
    }
    uint32_t len = static_cast<uint32_t>(data[pos]) | static_cast<uint32_t>(data[pos + 1]) << 8 |
                   static_cast<uint32_t>(data[pos + 2]) << 16 |
                   static_cast<uint32_t>(data[pos + 3]) << 24;
    pos += 4;
    if (data.size() - pos < len) {
      return sdk::InvalidArgument("BYTES element " + std::to_string(i) + " claims " +
                                  std::to_string(len) + " bytes but only " +
                                  std::to_string(data.size() - pos) + " remain");
    }
    pos += len;
  }
  if (pos != data.size()) {
    return sdk::InvalidArgument("BYTES data has " + std::to_string(data.size() - pos) +
                                " bytes after its " + std::to_string(element_count) + " elements");
  }
  return sdk::Status();
}

sdk::Status CheckTensorBytes(SyDataType datatype, std::span<const int64_t> shape,
                             std::span<const uint8_t> data) {
  SY_ASSIGN_OR_RETURN(uint64_t count, ElementCount(shape));
  if (datatype == SY_TYPE_BYTES) return CheckBytesLayout(data, count);
  size_t size = sdk::ElementSize(datatype);
  if (size == 0) return sdk::InvalidArgument("unknown datatype");
  if (count > UINT64_MAX / size || count * size != data.size()) {
    return sdk::InvalidArgument(
        std::to_string(data.size()) + " bytes do not hold " + std::to_string(count) + " " +
        std::string(sdk::DataTypeName(datatype)) + " elements (expected " +
        (count > UINT64_MAX / size ? std::string("more") : std::to_string(count * size)) +
        " bytes)");
  }
  return sdk::Status();
}

}  // namespace switchyard::exec
