#include "frontend/http/query_string.h"

#include "fmt/format.h"

namespace switchyard::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `text` percent-decoded with '+' as a space; `offset` is where `text` begins in the query (for
// the error message).
StatusOr<std::string> Decode(std::string_view text, std::size_t offset) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      decoded.push_back(' ');
    } else if (text[i] != '%') {
      decoded.push_back(text[i]);
    } else {
      const int high = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
      const int low = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return InvalidArgument(fmt::format(
            "query: malformed percent-escape at offset {} ('%' must be followed by two hex digits)",
            offset + i));
      }
      decoded.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  return decoded;
}

}  // namespace

StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view target,
                                                                      std::size_t max_params) {
  std::vector<std::pair<std::string, std::string>> params;
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) return params;
  const std::string_view query = target.substr(question + 1);

  std::vector<std::pair<std::size_t, std::string_view>> pairs;  // (offset in query, pair)
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    if (end > start) {
      if (pairs.size() == max_params) {
        return InvalidArgument(fmt::format("query: more than {} parameters", max_params));
      }
      pairs.emplace_back(start, query.substr(start, end - start));
    }
    start = end + 1;
  }

  params.reserve(pairs.size());
  for (const auto& [offset, pair] : pairs) {
    const std::size_t equals = pair.find('=');
    ASSIGN_OR_RETURN(std::string key, Decode(pair.substr(0, equals), offset));
    std::string value;
    if (equals != std::string_view::npos) {
      ASSIGN_OR_RETURN(value, Decode(pair.substr(equals + 1), offset + equals + 1));
    }
    params.emplace_back(std::move(key), std::move(value));
  }
  return params;
}

}  // namespace switchyard::http
