#pragma once
// Maps KServe v2 REST requests onto the core Server API. Holds no scheduling logic.
// Thread-safety: Handle may be called concurrently from every I/O thread.

#include <memory>
#include <string>

#include "frontend/http/http_types.h"
#include "frontend/http/repository_handler.h"
#include "switchyard/server.h"

namespace switchyard::http {

class Router {
 public:
  // `server` must outlive the router.
  explicit Router(Server* server, RepositoryOptions repository = {})
      : server_(server), repository_(std::make_unique<RepositoryHandler>(server, repository)) {}

  // Answers `request` through `reply`, exactly once, possibly on another thread (inference) or
  // before Handle returns (everything else).
  void Handle(HttpRequest request, ReplyFn reply) const;

 private:
  void HandleRepositoryIndex(const HttpRequest& request, const ReplyFn& reply) const;
  // Routes under /v2/models/{name}[/versions/{v}]/...
  void HandleModel(HttpRequest request, std::string_view rest, ReplyFn reply) const;
  void HandleInfer(HttpRequest request, const std::string& model, int64_t version,
                   ReplyFn reply) const;

  Server* const server_;
  const std::unique_ptr<RepositoryHandler> repository_;
};

}  // namespace switchyard::http
