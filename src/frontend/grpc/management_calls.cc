// The management calls of InferenceService (repository load/unload, system shared memory), the
// calls it does not serve, and its construction.

#include <grpcpp/grpcpp.h>

#include <utility>

#include "core/bearer_token.h"
#include "core/thread_name.h"
#include "fmt/format.h"
#include "frontend/grpc/grpc_status.h"
#include "frontend/grpc/inference_service.h"
#include "spdlog/spdlog.h"

namespace switchyard::grpc_frontend {
namespace {

using Reactor = InferenceService::Reactor;

Reactor* NotServed(grpc::CallbackServerContext* context, std::string_view what) {
  return FinishWith(context, Unimplemented(fmt::format("{} is not served by switchyard", what)));
}

std::vector<std::string> ExtensionsOf(const http::SharedMemoryRegistry* shared_memory) {
  std::vector<std::string> extensions = Server::Extensions();
  if (shared_memory != nullptr) extensions.emplace_back("system_shared_memory");
  return extensions;
}

}  // namespace

bool PeerIsLoopback(std::string_view peer) {
  return peer.starts_with("ipv4:127.") || peer.starts_with("ipv6:[::1]") ||
         peer.starts_with("ipv6:[::ffff:127.") || peer.starts_with("unix:");
}

Status CheckAdminToken(const grpc::CallbackServerContext& context, std::string_view token,
                       std::string_view api) {
  if (token.empty()) {
    if (PeerIsLoopback(context.peer())) return Status::Ok();
    return FailedPrecondition(
        fmt::format("the {} is open only to clients on the server's machine unless the server "
                    "has an admin token (--admin-token)",
                    api));
  }
  std::optional<std::string> authorization;
  const auto& metadata = context.client_metadata();
  if (auto found = metadata.find("authorization"); found != metadata.end()) {
    authorization = std::string(found->second.data(), found->second.size());
  }
  if (BearerTokenMatches(authorization, token)) return Status::Ok();
  return Unauthenticated(
      fmt::format("the {} needs the metadata 'authorization: Bearer <admin token>'", api));
}

InferenceService::InferenceService(Server* server, ServiceOptions options,
                                   http::SharedMemoryRegistry* shared_memory)
    : server_(server),
      options_(std::move(options)),
      shared_memory_(shared_memory),
      extensions_(ExtensionsOf(shared_memory)) {
  repository_thread_ = std::thread([this] {
    NameThisThread("sy-grpc-repo");
    RunRepositoryCalls();
  });
}

InferenceService::~InferenceService() {
  Stop();
  repository_thread_.join();
}

void InferenceService::Stop() {
  streams_.StopAll();
  for (RepositoryCall& call : repository_calls_.CloseAndTake()) {
    call.reactor->Finish(ToGrpcStatus(Unavailable("the server is shutting down")));
  }
}

Reactor* InferenceService::RepositoryModelLoad(Context* context,
                                               const inference::RepositoryModelLoadRequest* request,
                                               inference::RepositoryModelLoadResponse*) {
  return QueueRepositoryCall(context, /*load=*/true, request->model_name());
}

Reactor* InferenceService::RepositoryModelUnload(
    Context* context, const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse*) {
  return QueueRepositoryCall(context, /*load=*/false, request->model_name());
}

Reactor* InferenceService::QueueRepositoryCall(Context* context, bool load,
                                               const std::string& model) {
  if (Status allowed = CheckAdminToken(*context, options_.admin_token, "repository API");
      !allowed.ok()) {
    return FinishWith(context, allowed);
  }
  if (model.empty()) return FinishWith(context, InvalidArgument("model_name is required"));
  Reactor* reactor = context->DefaultReactor();
  auto refused =
      repository_calls_.Push(RepositoryCall{.load = load, .model = model, .reactor = reactor});
  if (refused) reactor->Finish(ToGrpcStatus(Unavailable("the server is shutting down")));
  return reactor;
}

void InferenceService::RunRepositoryCalls() {
  while (std::optional<RepositoryCall> next = repository_calls_.Pop()) {
    RepositoryCall& call = *next;
    spdlog::info("repository (gRPC): {} '{}'", call.load ? "load" : "unload", call.model);
    Status status = call.load ? server_->LoadModel(call.model)
                              : server_->UnloadModel(call.model, options_.unload_drain_timeout);
    if (!status.ok()) spdlog::error("repository (gRPC): {}", status.message());
    call.reactor->Finish(ToGrpcStatus(status));
  }
}

Status InferenceService::CheckSharedMemoryCall(const Context& context) const {
  if (shared_memory_ == nullptr) {
    return FailedPrecondition(
        "system shared memory is off on this server; start it with --allow-shared-memory");
  }
  return CheckAdminToken(context, options_.admin_token, "system shared-memory API");
}

Reactor* InferenceService::SystemSharedMemoryStatus(
    Context* context, const inference::SystemSharedMemoryStatusRequest* request,
    inference::SystemSharedMemoryStatusResponse* response) {
  if (Status allowed = CheckSharedMemoryCall(*context); !allowed.ok()) {
    return FinishWith(context, allowed);
  }
  std::optional<std::string_view> name;
  if (!request->name().empty()) name = request->name();
  auto regions = shared_memory_->List(name);
  if (!regions.ok()) return FinishWith(context, regions.status());
  for (const http::SharedMemoryRegionInfo& region : *regions) {
    auto& entry = (*response->mutable_regions())[region.name];
    entry.set_name(region.name);
    entry.set_key(region.key);
    entry.set_offset(region.offset);
    entry.set_byte_size(region.byte_size);
  }
  return FinishWith(context, Status::Ok());
}

Reactor* InferenceService::SystemSharedMemoryRegister(
    Context* context, const inference::SystemSharedMemoryRegisterRequest* request,
    inference::SystemSharedMemoryRegisterResponse*) {
  if (Status allowed = CheckSharedMemoryCall(*context); !allowed.ok()) {
    return FinishWith(context, allowed);
  }
  return FinishWith(context, shared_memory_->Register({.name = request->name(),
                                                       .key = request->key(),
                                                       .offset = request->offset(),
                                                       .byte_size = request->byte_size()}));
}

Reactor* InferenceService::SystemSharedMemoryUnregister(
    Context* context, const inference::SystemSharedMemoryUnregisterRequest* request,
    inference::SystemSharedMemoryUnregisterResponse*) {
  if (Status allowed = CheckSharedMemoryCall(*context); !allowed.ok()) {
    return FinishWith(context, allowed);
  }
  if (request->name().empty()) {
    shared_memory_->UnregisterAll();
    return FinishWith(context, Status::Ok());
  }
  return FinishWith(context, shared_memory_->Unregister(request->name()));
}

Reactor* InferenceService::CudaSharedMemoryStatus(Context* context,
                                                  const inference::CudaSharedMemoryStatusRequest*,
                                                  inference::CudaSharedMemoryStatusResponse*) {
  return NotServed(context, "CUDA shared memory");
}

Reactor* InferenceService::CudaSharedMemoryRegister(
    Context* context, const inference::CudaSharedMemoryRegisterRequest*,
    inference::CudaSharedMemoryRegisterResponse*) {
  return NotServed(context, "CUDA shared memory");
}

Reactor* InferenceService::CudaSharedMemoryUnregister(
    Context* context, const inference::CudaSharedMemoryUnregisterRequest*,
    inference::CudaSharedMemoryUnregisterResponse*) {
  return NotServed(context, "CUDA shared memory");
}

Reactor* InferenceService::TraceSetting(Context* context, const inference::TraceSettingRequest*,
                                        inference::TraceSettingResponse*) {
  return NotServed(context, "TraceSetting (tracing)");
}

Reactor* InferenceService::LogSettings(Context* context, const inference::LogSettingsRequest*,
                                       inference::LogSettingsResponse*) {
  return NotServed(context, "LogSettings");
}

}  // namespace switchyard::grpc_frontend
