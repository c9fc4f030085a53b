// GrpcControl and GrpcBuiltIn of grpc_transport.h, built with gRPC: blocking calls on one
// channel.

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "bench/grpc_transport.h"
#include "bench/http_client.h"
#include "fmt/format.h"
#include "grpc_service.grpc.pb.h"

namespace switchyard::bench {
namespace {

class Control final : public GrpcControl {
 public:
  explicit Control(const std::string& address)
      : address_(address),
        stub_(inference::GRPCInferenceService::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {}

  StatusOr<ModelMetadata> Metadata(const std::string& model) override {
    inference::ModelMetadataRequest request;
    request.set_name(model);
    inference::ModelMetadataResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    RETURN_IF_ERROR(Check("ModelMetadata", stub_->ModelMetadata(&context, request, &response)));
    ModelMetadata metadata;
    metadata.name = response.name();
    for (const auto& input : response.inputs()) {
      ASSIGN_OR_RETURN(TensorMetadata tensor, ToTensor(input));
      metadata.inputs.push_back(std::move(tensor));
    }
    for (const auto& output : response.outputs()) {
      ASSIGN_OR_RETURN(TensorMetadata tensor, ToTensor(output));
      metadata.outputs.push_back(std::move(tensor));
    }
    return metadata;
  }

  StatusOr<std::optional<int64_t>> MaxBatchSize(const std::string& model) override {
    inference::ModelConfigRequest request;
    request.set_name(model);
    inference::ModelConfigResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    grpc::Status status = stub_->ModelConfig(&context, request, &response);
    if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      return std::optional<int64_t>();
    }
    RETURN_IF_ERROR(Check("ModelConfig", status));
    return std::optional<int64_t>(response.config().max_batch_size());
  }

  StatusOr<StatsSnapshot> Stats(const std::string& model) override {
    inference::ModelStatisticsRequest request;
    request.set_name(model);
    inference::ModelStatisticsResponse response;
    grpc::ClientContext context;
    SetDeadline(context);
    RETURN_IF_ERROR(Check("ModelStatistics", stub_->ModelStatistics(&context, request, &response)));
    StatsSnapshot snapshot;
    bool found = false;
    for (const inference::ModelStatistics& stats : response.model_stats()) {
      if (stats.name() != model) continue;
      found = true;
      snapshot.inference_count += stats.inference_count();
      snapshot.execution_count += stats.execution_count();
      const inference::InferStatistics& infer = stats.inference_stats();
      Add(snapshot.success, infer.success());
      Add(snapshot.queue, infer.queue());
      Add(snapshot.compute_infer, infer.compute_infer());
    }
    if (!found) return NotFound(fmt::format("ModelStatistics names no model '{}'", model));
    return snapshot;
  }

 private:
  static void SetDeadline(grpc::ClientContext& context) {
    context.set_deadline(std::chrono::system_clock::now() + kControlTimeout);
  }

  Status Check(std::string_view call, const grpc::Status& status) const {
    if (status.ok()) return Status::Ok();
    return Unavailable(fmt::format("gRPC {} at {} failed: code {}: {}", call, address_,
                                   static_cast<int>(status.error_code()), status.error_message()));
  }

  static StatusOr<TensorMetadata> ToTensor(
      const inference::ModelMetadataResponse::TensorMetadata& message) {
    std::optional<DataType> datatype = ParseDataType(message.datatype());
    if (!datatype) {
      return InvalidArgument(fmt::format("model metadata: tensor '{}' has unknown datatype '{}'",
                                         message.name(), message.datatype()));
    }
    return TensorMetadata{message.name(), *datatype,
                          Shape(message.shape().begin(), message.shape().end())};
  }

  static void Add(DurationStat& sum, const inference::StatisticDuration& duration) {
    sum.count += duration.count();
    sum.ns += duration.ns();
  }

  const std::string address_;
  const std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

}  // namespace

bool GrpcBuiltIn() { return true; }

StatusOr<std::unique_ptr<GrpcControl>> GrpcControl::Connect(const std::string& address) {
  return std::unique_ptr<GrpcControl>(new Control(address));
}

}  // namespace switchyard::bench
