#pragma once
// The system shared-memory extension's REST calls, under /v2/systemsharedmemory:
// - GET [/region/{name}]/status: [{"name", "key", "offset", "byte_size"}, ...]
// - POST /region/{name}/register with {"key", "offset" (optional), "byte_size"}: {}
// - POST [/region/{name}]/unregister: {} (without a name: every region)
// When the extension is off (no registry) every call is refused 403 naming the flag that turns it
// on. When an admin token is configured every call needs it (401 otherwise).
// Thread-safety: Handle from any thread (the registry locks).

#include <string>
#include <string_view>

#include "frontend/http/http_types.h"
#include "frontend/http/shared_memory_registry.h"

namespace switchyard::http {

class SharedMemoryHandler {
 public:
  // `registry`: null when the extension is off; else it must outlive the handler.
  SharedMemoryHandler(SharedMemoryRegistry* registry, std::string admin_token)
      : registry_(registry), admin_token_(std::move(admin_token)) {}

  // `rest` is the path after "/v2/systemsharedmemory" (e.g. "/region/in0/register", "/status").
  void Handle(const HttpRequest& request, std::string_view rest, const ReplyFn& reply) const;

 private:
  void Register(const HttpRequest& request, std::string_view name, const ReplyFn& reply) const;

  SharedMemoryRegistry* const registry_;
  const std::string admin_token_;
};

}  // namespace switchyard::http
