#pragma once
// The admin token that management calls (the repository API, shared-memory registration) need
// when the operator configured one: `Authorization: Bearer <token>`.

#include <optional>
#include <string>
#include <string_view>

#include "frontend/http/http_types.h"

namespace switchyard::http {

// Whether `authorization` carries `token` ("Bearer <token>"), compared in constant time.
bool TokenMatches(const std::optional<std::string>& authorization, std::string_view token);

// The 401 reply (with WWW-Authenticate) for a call to `api` that lacks the token, or nullopt
// when the call may go on: no token is configured, or the request carries it.
std::optional<HttpReply> RefuseWithoutToken(const HttpRequest& request, std::string_view token,
                                            std::string_view api);

}  // namespace switchyard::http
