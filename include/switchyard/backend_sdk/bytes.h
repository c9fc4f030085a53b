#pragma once
// BYTES tensor elements as the KServe v2 binary layout has them: each a 4-byte little-endian
// length, then its bytes.
//
// Part of the backend SDK (include/switchyard/backend_sdk/): header-only, C++17 and later;
// optional for plugins (docs/plugin-abi.md).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace switchyard::sdk {

// Appends one BYTES element (length prefix + bytes) to `out`. REQUIRES: element.size() fits in
// 32 bits.
inline void AppendBytesElement(std::string_view element, std::vector<std::byte>& out) {
  const auto length = static_cast<uint32_t>(element.size());
  std::byte prefix[4];
  for (int i = 0; i < 4; ++i) prefix[i] = static_cast<std::byte>((length >> (8 * i)) & 0xff);
  out.insert(out.end(), prefix, prefix + 4);
  const auto* begin = reinterpret_cast<const std::byte*>(element.data());
  out.insert(out.end(), begin, begin + element.size());
}

}  // namespace switchyard::sdk
