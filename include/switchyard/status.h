#pragma once
// Status and StatusOr: how every fallible switchyard function reports failure. No exceptions
// travel on the request path; a Status is a cheap value (an OK status holds no allocation).

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace switchyard {

// The failure classes clients can tell apart. Each maps to one HTTP status and one gRPC code
// (see HttpStatusOf in src/frontend/http).
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the client's request is malformed (HTTP 400)
  kNotFound,            // unknown model, version or route (404)
  kAlreadyExists,       // (409)
  kFailedPrecondition,  // valid request, wrong state (400)
  kResourceExhausted,   // a bounded queue is full: retry later (429 + Retry-After)
  kDeadlineExceeded,    // the request's deadline passed (504)
  kCancelled,           // the client went away; nothing is sent
  kUnavailable,         // not ready, shutting down (503)
  kUnimplemented,       // (501)
  kPayloadTooLarge,     // a size limit was exceeded (413)
  kUnauthenticated,     // a management call without the right token (401)
  kInternal,            // a bug or a backend failure (500)
  kAborted,  // the instance executing it was lost (its worker died); retried once, else 500
};

std::string_view StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: message", or "OK".
  std::string ToString() const;

  bool operator==(const Status& other) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status FailedPrecondition(std::string message);
Status ResourceExhausted(std::string message);
Status DeadlineExceeded(std::string message);
Status Cancelled(std::string message);
Status Unavailable(std::string message);
Status Unimplemented(std::string message);
Status PayloadTooLarge(std::string message);
Status Unauthenticated(std::string message);
Status Internal(std::string message);
Status Aborted(std::string message);

// Either a value or a non-OK Status.
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : state_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  // REQUIRES: !status.ok()
  StatusOr(Status status) : state_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  Status status() const { return ok() ? Status() : std::get<Status>(state_); }

  // REQUIRES: ok()
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> state_;
};

}  // namespace switchyard

#define SY_CONCAT_INNER(a, b) a##b
#define SY_CONCAT(a, b) SY_CONCAT_INNER(a, b)

// Returns from the enclosing function with the status of `expr` if it is not OK.
#define RETURN_IF_ERROR(expr)                 \
  do {                                        \
    ::switchyard::Status sy_status_ = (expr); \
    if (!sy_status_.ok()) return sy_status_;  \
  } while (false)

// `lhs = value of expr` or return its status. `lhs` may be a declaration (`auto x`).
#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL(SY_CONCAT(sy_or_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
