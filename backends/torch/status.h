#pragma once
// Status and StatusOr<T> for the torch plugin. The plugin links nothing of switchyard (it builds
// against include/switchyard/backend.h alone), so it carries this small copy of the idea: a
// cheap value that is either OK or an SyErrorCode with a message. Errors become SyError* only at
// the ABI edge (backend_api.cc). Thread-safety: values, no shared state.

#include <optional>
#include <string>
#include <utility>

#include "switchyard/backend.h"

namespace switchyard::torch_backend {

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(SyErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message) {
    return Status(SY_ERROR_INVALID_ARGUMENT, std::move(message));
  }
  static Status Internal(std::string message) {
    return Status(SY_ERROR_INTERNAL, std::move(message));
  }
  static Status Unavailable(std::string message) {
    return Status(SY_ERROR_UNAVAILABLE, std::move(message));
  }
  static Status Unsupported(std::string message) {
    return Status(SY_ERROR_UNSUPPORTED, std::move(message));
  }

  bool ok() const { return !code_.has_value(); }
  // REQUIRES: !ok().
  SyErrorCode code() const { return *code_; }
  const std::string& message() const { return message_; }

  // The same error with `context + ": "` in front of the message (OK stays OK).
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(*code_, context + ": " + message_);
  }

 private:
  std::optional<SyErrorCode> code_;
  std::string message_;
};

// A value or an error. REQUIRES for value(): ok().
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace switchyard::torch_backend

#define SY_TORCH_RETURN_IF_ERROR(expr)                \
  do {                                                \
    ::switchyard::torch_backend::Status _st = (expr); \
    if (!_st.ok()) return _st;                        \
  } while (0)
