#include "frontend/http/admin_token.h"

#include "core/bearer_token.h"
#include "fmt/format.h"
#include "frontend/http/kserve_codec.h"

namespace switchyard::http {

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
  if (BearerTokenMatches(request.authorization, token)) return std::nullopt;
  HttpReply refused = ErrorReply(
      Unauthenticated(fmt::format("the {} needs 'Authorization: Bearer <admin token>'", api)));
  refused.headers.emplace_back("WWW-Authenticate", "Bearer");
  return refused;
}

}  // namespace switchyard::http
