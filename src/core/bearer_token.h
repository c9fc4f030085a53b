#pragma once
// The check of an `Authorization: Bearer <token>` value against the admin token, shared by the
// front ends (HTTP header, gRPC metadata).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard {

// Whether `authorization` is "Bearer <token>" for a non-empty `token`, compared in constant time
// (no early exit: the time does not tell how much of the token matched).
inline bool BearerTokenMatches(const std::optional<std::string>& authorization,
                               std::string_view token) {
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization || !authorization->starts_with(kBearer)) return false;
  const std::string_view given = std::string_view(*authorization).substr(kBearer.size());
  if (token.empty() || given.size() != token.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  }
  return diff == 0;
}

}  // namespace switchyard
