#pragma once
// Glue for a plugin's exported functions (backend.h): a Status becomes the host's SyError, and
// no C++ exception crosses the C ABI. Typical use, in an exported function:
//
//   SY_EXPORT SyError* SyModelInit(void* backend, const SyModelDesc* desc, void** model) {
//     return sdk::GuardedCall(host, [&] { return CreateModel(*desc, model); },  // -> Status
//                             [](const char* what) {
//                               return std::string("my backend: ") + (what ? what : "unknown");
//                             });
//   }
//
// Part of the backend SDK (include/switchyard/backend_sdk/): header-only, C++17 and later;
// optional for plugins (docs/plugin-abi.md).

#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>

#include "switchyard/backend.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::sdk {

// The host's error for `status` (host->error_new copies the message), or nullptr when it is OK.
// The caller owns what it gets until it hands it to the host.
inline SyError* ToError(const SyHostApi* host, const Status& status) {
  if (status.ok()) return nullptr;
  return host->error_new(status.code(), status.message().c_str());
}

// Fails request `request` of `batch` with `status` (request_set_error: the others go on).
// REQUIRES: !status.ok(); called during the SyInstanceExecute that received `batch`.
inline void FailRequest(const SyHostApi& host, SyBatch* batch, uint32_t request,
                        const Status& status) {
  host.request_set_error(batch, request, host.error_new(status.code(), status.message().c_str()));
}

// The what() of the exception being handled, or nullptr when it is not a std::exception. The
// text lives as long as that handler runs.
// REQUIRES: called inside a catch handler (else std::terminate).
inline const char* CurrentExceptionWhat() noexcept {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return nullptr;
  }
}

// Runs `body` at an exported function's edge and returns its outcome as the host's error:
// `body()` returns a Status (ToError) or an SyError* (passed on). An exception that escapes
// `body` becomes an SY_ERROR_INTERNAL error whose message is `describe(what)`, a std::string
// (`what`: CurrentExceptionWhat()). `describe` runs inside the catch handler, so it may also
// rethrow (`throw;`) to look at the exception's type.
template <typename Body, typename Describe>
SyError* GuardedCall(const SyHostApi* host, Body&& body, Describe&& describe) {
  try {
    if constexpr (std::is_same_v<std::invoke_result_t<Body&>, Status>) {
      return ToError(host, body());
    } else {
      static_assert(std::is_same_v<std::invoke_result_t<Body&>, SyError*>,
                    "GuardedCall's body returns sdk::Status or SyError*");
      return body();
    }
  } catch (...) {
    const std::string message = describe(CurrentExceptionWhat());
    return host->error_new(SY_ERROR_INTERNAL, message.c_str());
  }
}

}  // namespace switchyard::sdk
