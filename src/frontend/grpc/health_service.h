#pragma once
// grpc.health.v1.Health, the standard health check that Kubernetes gRPC probes and
// grpc_health_probe call. Check with service "" (or "inference.GRPCInferenceService"): SERVING
// when the server is ready (Server::IsReady), else NOT_SERVING. Check with a model's name:
// SERVING when that model is ready, NOT_SERVING when it is not, NOT_FOUND for an unknown one.
// Watch answers UNIMPLEMENTED. Thread-safety: gRPC calls Check concurrently.

#include <grpcpp/grpcpp.h>

#include "health.grpc.pb.h"
#include "switchyard/server.h"

namespace switchyard::grpc_frontend {

class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  // `server` must outlive the service.
  explicit HealthService(const Server* server) : server_(server) {}

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override;

 private:
  const Server* const server_;
};

}  // namespace switchyard::grpc_frontend
