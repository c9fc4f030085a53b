#pragma once
// inference.GRPCInferenceService on gRPC++'s callback API: maps each call onto the core Server
// API, with the semantics of the HTTP front end (docs/protocol.md, "gRPC"). Holds no scheduling
// logic. Calls that take seconds (repository load and unload) run one at a time on a thread of
// the service's own, never on gRPC's threads; every other call answers from the thread it
// arrived on or, for inference, from the core's callback.
// Thread-safety: gRPC calls the methods concurrently from its threads.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "core/work_queue.h"
#include "frontend/grpc/service_options.h"
#include "frontend/grpc/stream_infer.h"
#include "frontend/http/shared_memory_registry.h"
#include "grpc_service.grpc.pb.h"
#include "switchyard/server.h"

namespace switchyard::grpc_frontend {

// Whether a gRPC peer ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000", "unix:...") is on this machine.
bool PeerIsLoopback(std::string_view peer);

// OK when a management call (`api` names it in messages) may go on: the call's `authorization`
// metadata carries `token` ("Bearer <token>"); or no token is configured and the peer is on this
// machine. Unauthenticated without the right token; FailedPrecondition for a remote peer when no
// token is configured.
Status CheckAdminToken(const grpc::CallbackServerContext& context, std::string_view token,
                       std::string_view api);

// Finishes a unary call at once with `status` (ToGrpcStatus) on the call's default reactor,
// and returns that reactor for the service method to return.
grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context, const Status& status);

class InferenceService final : public inference::GRPCInferenceService::CallbackService {
 public:
  // `server` must outlive the service, and so must `shared_memory` (null: the system
  // shared-memory extension is off).
  InferenceService(Server* server, ServiceOptions options,
                   http::SharedMemoryRegistry* shared_memory);
  // Finishes the repository call in progress; those queued are answered UNAVAILABLE.
  ~InferenceService() override;

  // Graceful shutdown, before the gRPC server's: every open ModelStreamInfer reads no more
  // requests and ends once those it read are answered; the repository calls still queued are
  // answered UNAVAILABLE (the one in progress finishes). Idempotent.
  void Stop();

  using Reactor = grpc::ServerUnaryReactor;
  using Context = grpc::CallbackServerContext;

  Reactor* ServerLive(Context* context, const inference::ServerLiveRequest* request,
                      inference::ServerLiveResponse* response) override;
  Reactor* ServerReady(Context* context, const inference::ServerReadyRequest* request,
                       inference::ServerReadyResponse* response) override;
  Reactor* ModelReady(Context* context, const inference::ModelReadyRequest* request,
                      inference::ModelReadyResponse* response) override;
  Reactor* ServerMetadata(Context* context, const inference::ServerMetadataRequest* request,
                          inference::ServerMetadataResponse* response) override;
  Reactor* ModelMetadata(Context* context, const inference::ModelMetadataRequest* request,
                         inference::ModelMetadataResponse* response) override;
  // The deadline is the sooner of the call's and the request's `timeout` parameter; a client
  // that cancels the call cancels the request (queued: dropped; executing: its backend is told).
  Reactor* ModelInfer(Context* context, const inference::ModelInferRequest* request,
                      inference::ModelInferResponse* response) override;
  grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
  ModelStreamInfer(Context* context) override;
  Reactor* ModelConfig(Context* context, const inference::ModelConfigRequest* request,
                       inference::ModelConfigResponse* response) override;
  Reactor* ModelStatistics(Context* context, const inference::ModelStatisticsRequest* request,
                           inference::ModelStatisticsResponse* response) override;
  Reactor* RepositoryIndex(Context* context, const inference::RepositoryIndexRequest* request,
                           inference::RepositoryIndexResponse* response) override;
  Reactor* RepositoryModelLoad(Context* context,
                               const inference::RepositoryModelLoadRequest* request,
                               inference::RepositoryModelLoadResponse* response) override;
  Reactor* RepositoryModelUnload(Context* context,
                                 const inference::RepositoryModelUnloadRequest* request,
                                 inference::RepositoryModelUnloadResponse* response) override;
  Reactor* SystemSharedMemoryStatus(Context* context,
                                    const inference::SystemSharedMemoryStatusRequest* request,
                                    inference::SystemSharedMemoryStatusResponse* response) override;
  Reactor* SystemSharedMemoryRegister(
      Context* context, const inference::SystemSharedMemoryRegisterRequest* request,
      inference::SystemSharedMemoryRegisterResponse* response) override;
  Reactor* SystemSharedMemoryUnregister(
      Context* context, const inference::SystemSharedMemoryUnregisterRequest* request,
      inference::SystemSharedMemoryUnregisterResponse* response) override;
  Reactor* CudaSharedMemoryStatus(Context* context,
                                  const inference::CudaSharedMemoryStatusRequest* request,
                                  inference::CudaSharedMemoryStatusResponse* response) override;
  Reactor* CudaSharedMemoryRegister(Context* context,
                                    const inference::CudaSharedMemoryRegisterRequest* request,
                                    inference::CudaSharedMemoryRegisterResponse* response) override;
  Reactor* CudaSharedMemoryUnregister(
      Context* context, const inference::CudaSharedMemoryUnregisterRequest* request,
      inference::CudaSharedMemoryUnregisterResponse* response) override;
  Reactor* TraceSetting(Context* context, const inference::TraceSettingRequest* request,
                        inference::TraceSettingResponse* response) override;
  Reactor* LogSettings(Context* context, const inference::LogSettingsRequest* request,
                       inference::LogSettingsResponse* response) override;

 private:
  struct RepositoryCall {
    bool load = true;  // else unload
    std::string model;
    Reactor* reactor = nullptr;
  };
  Reactor* QueueRepositoryCall(Context* context, bool load, const std::string& model);
  void RunRepositoryCalls();
  // The shared-memory calls' common checks: the extension is on, and the caller may use it.
  Status CheckSharedMemoryCall(const Context& context) const;

  Server* const server_;
  const ServiceOptions options_;
  http::SharedMemoryRegistry* const shared_memory_;
  const std::vector<std::string> extensions_;
  StreamSet streams_;
  WorkQueue<RepositoryCall> repository_calls_;
  std::thread repository_thread_;
};

}  // namespace switchyard::grpc_frontend
