#include "frontend/http/admin_token.h"

#include "fmt/format.h"
#include "frontend/http/kserve_codec.h"

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
  if (token.empty()) {
    if (request.peer_loopback) return std::nullopt;
    HttpReply refused;
    refused.status = 403;
    refused.body = ErrorJson(
        fmt::format("the {} is open only to clients on the server's machine unless the server "
                    "has an admin token (--admin-token)",
                    api));
    return refused;
  }
  if (TokenMatches(request.authorization, token)) return std::nullopt;
  HttpReply refused = ErrorReply(
      Unauthenticated(fmt::format("the {} needs 'Authorization: Bearer <admin token>'", api)));
  refused.headers.emplace_back("WWW-Authenticate", "Bearer");
  return refused;
}

}  // namespace switchyard::http
