#pragma once
// Status and StatusOr for the exec plugin. The plugin links nothing of switchyard (it builds
// against include/switchyard/backend.h alone), so it carries this small copy: a Status is an
// SyErrorCode and a message, turned into an SyError only at the ABI edge (exec_backend.cc).

#include <string>
#include <utility>
#include <variant>

#include "switchyard/backend.h"

namespace switchyard::exec {

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(SyErrorCode code, std::string message)
      : ok_(false), code_(code), message_(std::move(message)) {}

  bool ok() const { return ok_; }
  SyErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // A copy whose message is `prefix + message()`; OK stays OK.
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
inline Status Internal(std::string message) {
  return Status(SY_ERROR_INTERNAL, std::move(message));
}
inline Status Unavailable(std::string message) {
  return Status(SY_ERROR_UNAVAILABLE, std::move(message));
}

// A value or a failed Status. REQUIRES for value(): ok().
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {}  // NOLINT: REQUIRES: !status.ok()

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }
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

#define EXEC_CONCAT_INNER(a, b) a##b
#define EXEC_CONCAT(a, b) EXEC_CONCAT_INNER(a, b)

#define EXEC_RETURN_IF_ERROR(expr)                    \
  do {                                                \
    ::switchyard::exec::Status exec_status_ = (expr); \
    if (!exec_status_.ok()) return exec_status_;      \
  } while (0)

#define EXEC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

#define EXEC_ASSIGN_OR_RETURN(lhs, expr) \
  EXEC_ASSIGN_OR_RETURN_IMPL(EXEC_CONCAT(exec_statusor_, __LINE__), lhs, expr)

}  // namespace switchyard::exec
