#pragma once
// The model repository extension's management calls: POST /v2/repository/models/{m}/load and
// .../unload. They take seconds (workers start, queues drain), so they run one at a time on a
// thread of their own, never on an I/O thread. When an admin token is configured they need
// `Authorization: Bearer <token>` (401 otherwise).
// Thread-safety: Handle from any thread.

#include <string>
#include <string_view>
#include <thread>

#include "core/work_queue.h"
#include "frontend/http/http_types.h"
#include "switchyard/server.h"

namespace switchyard::http {

struct RepositoryOptions {
  std::string admin_token;  // empty: no token needed
  // How long an unload lets the model's queued and executing requests finish.
  Duration unload_drain_timeout = std::chrono::seconds(30);
};

class RepositoryHandler {
 public:
  // `server` must outlive the handler.
  RepositoryHandler(Server* server, RepositoryOptions options);
  ~RepositoryHandler();  // finishes the call in progress, drops the queued ones (answered 503)

  // `rest` is the path after "/v2/repository/models/": "{m}/load" or "{m}/unload".
  void Handle(const HttpRequest& request, std::string_view rest, ReplyFn reply);

 private:
  struct Call {
    bool load = true;  // else unload
    std::string model;
    ReplyFn reply;
  };
  void Run();

  Server* const server_;
  const RepositoryOptions options_;
  WorkQueue<Call> calls_;
  std::thread thread_;
};

}  // namespace switchyard::http
