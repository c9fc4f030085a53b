#include "frontend/grpc/health_service.h"

#include "frontend/grpc/grpc_status.h"

namespace switchyard::grpc_frontend {

grpc::ServerUnaryReactor* HealthService::Check(grpc::CallbackServerContext* context,
                                               const grpc::health::v1::HealthCheckRequest* request,
                                               grpc::health::v1::HealthCheckResponse* response) {
  using grpc::health::v1::HealthCheckResponse;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string& service = request->service();
  bool serving = false;
  if (service.empty() || service == "inference.GRPCInferenceService") {
    serving = server_->IsReady();
  } else {
    auto model = server_->GetModel(service, -1);
    if (!model.ok()) {
      reactor->Finish(ToGrpcStatus(model.status()));
      return reactor;
    }
    serving = model->state == ModelState::kReady;
  }
  response->set_status(serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace switchyard::grpc_frontend
