#include "frontend/http/http_types.h"

#include "fmt/format.h"
#include "frontend/http/kserve_codec.h"

namespace switchyard::http {

unsigned HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kFailedPrecondition:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kCancelled:
      return 499;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kInternal:
    case StatusCode::kAborted:
      return 500;
  }
  return 500;
}

HttpReply ErrorReply(const Status& status) {
  HttpReply reply;
  reply.status = HttpStatusOf(status.code());
  reply.body = ErrorJson(status.message());
  if (status.code() == StatusCode::kResourceExhausted) {
    reply.headers.emplace_back("Retry-After", "1");
  }
  if (status.code() == StatusCode::kCancelled) reply.close = true;
  return reply;
}

HttpReply JsonReply(std::string body) {
  HttpReply reply;
  reply.body = std::move(body);
  return reply;
}

bool Expect(Method want, const HttpRequest& request, const ReplyFn& reply) {
  if (request.method == want || (want == Method::kGet && request.method == Method::kHead)) {
    return true;
  }
  const std::string allowed = want == Method::kGet ? "GET" : "POST";
  HttpReply refused;
  refused.status = 405;
  refused.body = ErrorJson(fmt::format("method not allowed; use {}", allowed));
  refused.headers.emplace_back("Allow", allowed);
  reply(std::move(refused));
  return false;
}

}  // namespace switchyard::http
