#pragma once
// Maps KServe v2 REST requests onto the core Server API. Holds no scheduling logic.
// Thread-safety: Handle may be called concurrently from every I/O thread.

#include <memory>
#include <optional>
#include <string>

#include "frontend/http/http_types.h"
#include "frontend/http/job_service.h"
#include "frontend/http/repository_handler.h"
#include "frontend/http/shared_memory_handler.h"
#include "switchyard/server.h"

namespace switchyard::http {

class Router {
 public:
  // `server` must outlive the router, and so must `shared_memory` (null: the system
  // shared-memory extension is off).
  explicit Router(Server* server, RepositoryOptions repository = {},
                  SharedMemoryRegistry* shared_memory = nullptr);

  // Serves the job routes (job_service.h) through `jobs`, which must outlive the router; null
  // (the default): they answer 404. Call before the router serves.
  void SetJobs(JobService* jobs) { jobs_ = jobs; }

  // Answers `request` through `reply`, exactly once, possibly on another thread (inference) or
  // before Handle returns (everything else).
  void Handle(HttpRequest request, ReplyFn reply) const;

  // Shared memory to receive the body of an infer request for `target` into, `size` bytes, when
  // its model's workers read their inputs there (ModelHandle::NewRequestBody, `aligned_at`
  // passed on), with the model it resolved (to pass on as HttpRequest::model); nullopt
  // otherwise: the body is then received into ordinary memory as it arrives.
  struct SharedBody {
    RequestBody body;
    std::shared_ptr<const ModelHandle> model;
  };
  std::optional<SharedBody> NewSharedBody(std::string_view target, std::size_t size,
                                          std::size_t aligned_at) const;

 private:
  // The parts of "/{model}[/versions/{v}]/{action}" (the path after /v2/models). NotFound when
  // it has another form; InvalidArgument for a version that is not a positive integer.
  struct ModelRoute {
    std::string model;
    int64_t version = -1;
    std::string action;  // may be empty
  };
  static StatusOr<ModelRoute> ParseModelRoute(std::string_view rest);

  void HandleRepositoryIndex(const HttpRequest& request, const ReplyFn& reply) const;
  // Routes under /v2/models/{name}[/versions/{v}]/...
  void HandleModel(HttpRequest request, std::string_view rest, ReplyFn reply) const;
  // `reply` with an ORCA load report (LoadReport in `format`, of the load when it answers)
  // added to its headers.
  ReplyFn WithLoadReport(std::string format, ReplyFn reply) const;
  // POST .../jobs, or .../infer and .../predict with `Prefer: respond-async`.
  void SubmitJob(HttpRequest request, const ModelRoute& route, ReplyFn reply) const;
  // POST .../infer and .../predict (plain HTTP in and out: predict_codec.h) for the request's
  // model, resolved (`request.model` set) before they are called.
  void HandleInfer(HttpRequest request, const ModelRoute& route, ReplyFn reply) const;
  void HandlePredict(HttpRequest request, const ModelRoute& route, ReplyFn reply) const;

  Server* const server_;
  const std::unique_ptr<RepositoryHandler> repository_;
  const SharedMemoryRegistry* const shared_memory_;
  const SharedMemoryHandler shared_memory_handler_;
  const std::string metadata_;  // GET /v2
  JobService* jobs_ = nullptr;
};

}  // namespace switchyard::http
