// The health, metadata, config, statistics and inference calls of InferenceService; the
// management calls are in management_calls.cc.

#include "frontend/grpc/inference_service.h"

#include <chrono>
#include <utility>

#include "frontend/grpc/grpc_status.h"
#include "frontend/grpc/infer_codec.h"
#include "frontend/grpc/model_messages.h"

namespace switchyard::grpc_frontend {

grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context, const Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

namespace {

using Reactor = InferenceService::Reactor;

// The model a request names, as the core knows it.
StatusOr<ModelInfo> GetModel(const Server& server, const std::string& name,
                             const std::string& version) {
  ASSIGN_OR_RETURN(int64_t number, ParseModelVersion(version));
  return server.GetModel(name, number);
}

// A unary infer call: a client that cancels it cancels its request. Deletes itself when gRPC is
// done with it, which is after Finish, which only the core's answer (or a refusal before the
// request reached the core) calls.
class InferReactor final : public grpc::ServerUnaryReactor {
 public:
  explicit InferReactor(std::shared_ptr<CancelToken> cancel) : cancel_(std::move(cancel)) {}
  void OnCancel() override { cancel_->Cancel(); }
  void OnDone() override { delete this; }

 private:
  const std::shared_ptr<CancelToken> cancel_;
};

// Lowers `request`'s timeout to what is left of the call's deadline (none when the client set
// none). DeadlineExceeded when it has passed.
Status ApplyDeadline(std::chrono::system_clock::time_point deadline, InferRequest& request) {
  if (deadline == std::chrono::system_clock::time_point::max()) return Status::Ok();
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
                        deadline - std::chrono::system_clock::now())
                        .count();
  if (left <= 0) return DeadlineExceeded("the call's deadline passed before it was queued");
  if (!request.timeout_us || *request.timeout_us > left) request.timeout_us = left;
  return Status::Ok();
}

}  // namespace

Reactor* InferenceService::ServerLive(Context* context, const inference::ServerLiveRequest*,
                                      inference::ServerLiveResponse* response) {
  response->set_live(server_->IsLive());
  return FinishWith(context, Status::Ok());
}

Reactor* InferenceService::ServerReady(Context* context, const inference::ServerReadyRequest*,
                                       inference::ServerReadyResponse* response) {
  response->set_ready(server_->IsReady());
  return FinishWith(context, Status::Ok());
}

Reactor* InferenceService::ModelReady(Context* context, const inference::ModelReadyRequest* request,
                                      inference::ModelReadyResponse* response) {
  auto model = GetModel(*server_, request->name(), request->version());
  if (!model.ok()) return FinishWith(context, model.status());
  response->set_ready(model->state == ModelState::kReady);
  return FinishWith(context, Status::Ok());
}

Reactor* InferenceService::ServerMetadata(Context* context, const inference::ServerMetadataRequest*,
                                          inference::ServerMetadataResponse* response) {
  FillServerMetadata(Server::kName, Server::Version(), extensions_, response);
  return FinishWith(context, Status::Ok());
}

Reactor* InferenceService::ModelMetadata(Context* context,
                                         const inference::ModelMetadataRequest* request,
                                         inference::ModelMetadataResponse* response) {
  auto model = GetModel(*server_, request->name(), request->version());
  if (!model.ok()) return FinishWith(context, model.status());
  FillModelMetadata(*model, response);
  return FinishWith(context, Status::Ok());
}

Reactor* InferenceService::ModelConfig(Context* context,
                                       const inference::ModelConfigRequest* request,
                                       inference::ModelConfigResponse* response) {
  auto model = GetModel(*server_, request->name(), request->version());
  if (!model.ok()) return FinishWith(context, model.status());
  FillModelConfig(*model, response->mutable_config());
  return FinishWith(context, Status::Ok());
}

Reactor* InferenceService::ModelStatistics(Context* context,
                                           const inference::ModelStatisticsRequest* request,
                                           inference::ModelStatisticsResponse* response) {
  auto version = ParseModelVersion(request->version());
  if (!version.ok()) return FinishWith(context, version.status());
  auto stats = server_->Statistics(request->name(), *version);
  if (!stats.ok()) return FinishWith(context, stats.status());
  FillStatistics(*stats, response);
  return FinishWith(context, Status::Ok());
}

Reactor* InferenceService::RepositoryIndex(Context* context,
                                           const inference::RepositoryIndexRequest* request,
                                           inference::RepositoryIndexResponse* response) {
  std::vector<ModelInfo> models = server_->ListModels();
  if (request->ready()) {
    std::erase_if(models, [](const ModelInfo& m) { return m.state != ModelState::kReady; });
  }
  FillRepositoryIndex(models, response);
  return FinishWith(context, Status::Ok());
}

Reactor* InferenceService::ModelInfer(Context* context, const inference::ModelInferRequest* request,
                                      inference::ModelInferResponse* response) {
  auto cancel = std::make_shared<CancelToken>();
  auto* reactor = new InferReactor(cancel);
  // The message is this call's alone until it finishes and gRPC only frees it then: its raw
  // tensors are moved out of it into the request instead of being copied.
  auto& message = const_cast<inference::ModelInferRequest&>(*request);
  auto decoded = DecodeModelInferRequest(message, shared_memory_);
  if (!decoded.ok()) {
    reactor->Finish(ToGrpcStatus(decoded.status()));
    return reactor;
  }
  std::unique_ptr<InferRequest> infer = std::move(decoded->request);
  auto model = server_->Resolve(infer->model_name, infer->model_version);
  Status admitted = model.ok() ? ApplyDeadline(context->deadline(), *infer) : model.status();
  if (!admitted.ok()) {
    reactor->Finish(ToGrpcStatus(admitted));
    return reactor;
  }
  infer->cancel = std::move(cancel);
  server_->Infer(
      **model, std::move(infer),
      [reactor, response, name = request->model_name(),
       input_regions = std::move(decoded->input_regions),
       output_regions = std::move(decoded->output_regions)](StatusOr<InferResponse> result) {
        Status status = result.status();
        // Computed from zeros where an input's region was truncated under it: refused.
        if (status.ok()) status = http::CheckInputRegions(input_regions);
        if (status.ok()) {
          status = EncodeModelInferResponse(*result, name, response, &output_regions);
        }
        reactor->Finish(ToGrpcStatus(status));
      });
  return reactor;
}

grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
InferenceService::ModelStreamInfer(Context*) {
  return new StreamInferReactor(server_, &streams_, shared_memory_);
}

}  // namespace switchyard::grpc_frontend
