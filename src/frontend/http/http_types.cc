#include "frontend/http/http_types.h"

#include <utility>

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

void ReplyStream::Write(std::string chunk) {
  {
    std::lock_guard lock(mu_);
    if (ended_ || gone_) return;
    pending_ += chunk;
  }
  Wake();
}

void ReplyStream::End() {
  {
    std::lock_guard lock(mu_);
    if (ended_) return;
    ended_ = true;
  }
  Wake();
}

bool ReplyStream::client_gone() const {
  std::lock_guard lock(mu_);
  return gone_;
}

void ReplyStream::Attach(std::function<void()> wake) {
  bool now = false;
  {
    std::lock_guard lock(mu_);
    wake_ = std::move(wake);
    now = ended_ || !pending_.empty();
  }
  if (now) Wake();
}

std::string ReplyStream::Take(bool* ended) {
  std::lock_guard lock(mu_);
  *ended = ended_;
  return std::exchange(pending_, std::string());
}

void ReplyStream::ClientGone() {
  std::function<void()> gone;
  {
    std::lock_guard lock(mu_);
    if (gone_) return;
    gone_ = true;
    pending_.clear();
    wake_ = nullptr;
    gone = std::move(on_gone_);
  }
  if (gone) gone();
}

void ReplyStream::OnClientGone(std::function<void()> gone) {
  {
    std::lock_guard lock(mu_);
    if (!gone_) {
      on_gone_ = std::move(gone);
      return;
    }
  }
  if (gone) gone();
}

void ReplyStream::Wake() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    wake = wake_;
  }
  if (wake) wake();
}

HttpReply JsonReply(std::string body) {
  HttpReply reply;
  reply.body = std::move(body);
  return reply;
}

std::string TakeWholeBody(HttpReply& reply) {
  std::string body = std::move(reply.body);
  for (std::span<const std::byte> part : reply.body_tail) {
    body.append(reinterpret_cast<const char*>(part.data()), part.size());
  }
  return body;
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
