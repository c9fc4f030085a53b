#pragma once
// The gRPC messages of the KServe v2 calls other than inference: server and model metadata,
// model config (the Triton ModelConfig fields perf_analyzer reads), statistics and the
// repository index. They carry what the HTTP front end's JSON documents carry
// (frontend/http/kserve_json.h). Pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "grpc_service.pb.h"
#include "switchyard/server.h"
#include "switchyard/statistics.h"

namespace switchyard::grpc_frontend {

void FillServerMetadata(std::string_view name, std::string_view version,
                        const std::vector<std::string>& extensions,
                        inference::ServerMetadataResponse* out);

// name, versions (as text), platform (= the backend), inputs and outputs (shapes with a leading
// -1 when the model batches; variable dims -1). A null model.config reads as an empty config.
void FillModelMetadata(const ModelInfo& model, inference::ModelMetadataResponse* out);

// name, platform and backend (both the backend's name), max_batch_size, input and output
// (data_type TYPE_*, dims without the batch dimension), dynamic_batching (only when the model
// batches: preferred sizes, max queue delay, priority levels), one instance_group (count per
// device, 1 for auto; KIND_CPU or KIND_GPU with the device ids when listed), parameters.
void FillModelConfig(const ModelInfo& model, inference::ModelConfig* out);

// The proto enum of a datatype (TYPE_STRING for BYTES).
inference::DataType ConfigDataType(DataType datatype);

void FillStatistics(const std::vector<ModelStatistics>& stats,
                    inference::ModelStatisticsResponse* out);

// One entry per model: name, version (the served one, as text), state (READY, LOADING,
// UNAVAILABLE) and reason.
void FillRepositoryIndex(const std::vector<ModelInfo>& models,
                         inference::RepositoryIndexResponse* out);

}  // namespace switchyard::grpc_frontend
