#pragma once
// Test helpers that build tensor bytes: fixed-size values in little-endian order, and BYTES
// elements in their length-prefixed layout (include/switchyard/tensor.h).

#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "switchyard/tensor.h"

namespace switchyard::testing {

template <typename T>
std::vector<std::byte> Le(std::initializer_list<T> values) {
  std::vector<std::byte> out(values.size() * sizeof(T));
  std::size_t offset = 0;
  for (T value : values) {
    std::memcpy(out.data() + offset, &value, sizeof(T));
    offset += sizeof(T);
  }
  return out;
}

inline std::vector<std::byte> BytesElements(std::initializer_list<std::string_view> elements) {
  std::vector<std::byte> out;
  for (auto element : elements) AppendBytesElement(element, out);
  return out;
}

}  // namespace switchyard::testing
