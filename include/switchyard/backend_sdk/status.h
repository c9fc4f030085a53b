#pragma once
// Status and StatusOr<T> for plugins: a cheap value that is either OK or an SyErrorCode with a
// message, turned into an SyError only at the ABI edge (entry.h: ToError). Thread-safety:
// values, no shared state.
//
// Part of the backend SDK (include/switchyard/backend_sdk/): header-only, C++17 and later;
// optional for plugins (docs/plugin-abi.md). The server's own Status (switchyard/status.h) is
// another type, for the server's code; the macros here carry SY_ so that both may be included.

#include <string>
#include <utility>
#include <variant>

#include "switchyard/backend.h"

namespace switchyard::sdk {

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  // A failure. `code` is what the host maps to an answer (docs/plugin-abi.md, *Errors*).
  Status(SyErrorCode code, std::string message)
      : ok_(false), code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  // REQUIRES: !ok().
  SyErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }  // empty when OK

  // The same failure with `prefix + message()` as its message; OK stays OK.
  Status Prefixed(const std::string& prefix) const {
    return ok_ ? *this : Status(code_, prefix + message_);
  }

 private:
  bool ok_ = true;
  SyErrorCode code_ = SY_ERROR_INTERNAL;
  std::string message_;
};

inline Status InvalidArgument(std::string message) {
  return Status(SY_ERROR_INVALID_ARGUMENT, std::move(message));
}
inline Status Unsupported(std::string message) {
  return Status(SY_ERROR_UNSUPPORTED, std::move(message));
}
inline Status Unavailable(std::string message) {
  return Status(SY_ERROR_UNAVAILABLE, std::move(message));
}
inline Status Internal(std::string message) {
  return Status(SY_ERROR_INTERNAL, std::move(message));
}

// A value or a failed Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  // REQUIRES: !status.ok().
  StatusOr(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when a value is held. The reference is valid as long as this StatusOr (unchanged).
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace switchyard::sdk

#define SY_SDK_CONCAT_INNER(a, b) a##b
#define SY_SDK_CONCAT(a, b) SY_SDK_CONCAT_INNER(a, b)

// Returns the status of `expr` (a Status) from the enclosing function if it is not OK.
#define SY_RETURN_IF_ERROR(expr)                       \
  do {                                                 \
    ::switchyard::sdk::Status sy_sdk_status_ = (expr); \
    if (!sy_sdk_status_.ok()) return sy_sdk_status_;   \
  } while (0)

// `lhs = value of expr` (a StatusOr), or returns its status. `lhs` may declare (`auto x`).
#define SY_ASSIGN_OR_RETURN(lhs, expr) \
  SY_SDK_ASSIGN_OR_RETURN_IMPL(SY_SDK_CONCAT(sy_sdk_statusor_, __LINE__), lhs, expr)
#define SY_SDK_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
