#pragma once
// What the gRPC service is told by the one who starts it (serve's flags). No gRPC types, so that
// code which must not see gRPC++'s headers (the serve command) can name it.

#include <string>

#include "switchyard/clock.h"

namespace switchyard::grpc_frontend {

struct ServiceOptions {
  // The token that repository and shared-memory calls need as metadata `authorization: Bearer
  // <token>`. Empty: none is needed, and those calls are open to clients on this machine only.
  std::string admin_token;
  // How long an unload lets the model's queued and executing requests finish.
  Duration unload_drain_timeout = std::chrono::seconds(30);
};

}  // namespace switchyard::grpc_frontend
