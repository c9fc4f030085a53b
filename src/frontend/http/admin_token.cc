#include "frontend/http/admin_token.h"

#include "fmt/format.h"

namespace switchyard::http {

bool TokenMatches(const std::optional<std::string>& authorization, std::string_view token) {
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization || !authorization->starts_with(kBearer)) return false;
  std::string_view given = std::string_view(*authorization).substr(kBearer.size());
  if (token.empty() || given.size() != token.size()) return false;
  unsigned char diff = 0;  // no early exit: the time does not tell how much matched
  for (std::size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  }
  return diff == 0;
}

std::optional<HttpReply> RefuseWithoutToken(const HttpRequest& request, std::string_view token,
                                            std::string_view api) {
  if (token.empty() || TokenMatches(request.authorization, token)) return std::nullopt;
  HttpReply refused = ErrorReply(
      Unauthenticated(fmt::format("the {} needs 'Authorization: Bearer <admin token>'", api)));
  refused.headers.emplace_back("WWW-Authenticate", "Bearer");
  return refused;
}

}  // namespace switchyard::http
