#pragma once
// The admin token that management calls (the repository API, shared-memory registration) need
// when the operator configured one: `Authorization: Bearer <token>`. Without one, management
// calls are open to clients on this machine only (as Triton restricts its management APIs).

#include <optional>
#include <string>
#include <string_view>

#include "frontend/http/http_types.h"

namespace switchyard::http {

// The 401 reply (with WWW-Authenticate) for a call to `api` that lacks the token, or nullopt
// when the call may go on: the request carries the token, or no token is configured and the
// client is on this machine. Without a token a client from another machine is answered 403.
std::optional<HttpReply> RefuseWithoutToken(const HttpRequest& request, std::string_view token,
                                            std::string_view api);

}  // namespace switchyard::http
