#pragma once
// JSON text for plugins that write JSON themselves (e.g. a request file for a program).
//
// Part of the backend SDK (include/switchyard/backend_sdk/): header-only, C++17 and later;
// optional for plugins (docs/plugin-abi.md).

#include <string>
#include <string_view>

namespace switchyard::sdk {

// `text` as a JSON string literal, quotes included: `"` and `\` escaped, \n \r \t by name, other
// bytes below 0x20 as \u00XX (lower-case hex). Other bytes, invalid UTF-8 included, pass through
// unchanged.
inline std::string JsonQuote(std::string_view text) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  out.reserve(text.size() + 2);
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (const auto byte = static_cast<unsigned char>(c); byte < 0x20) {
          out += "\\u00";
          out.push_back(kHex[byte >> 4]);
          out.push_back(kHex[byte & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace switchyard::sdk
