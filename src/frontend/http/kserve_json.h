#pragma once
// JSON documents of the KServe v2 REST API other than inference: server and model metadata,
// model config (Triton's JSON model-config shape, which perf_analyzer reads), statistics and the
// repository index. Pure functions.

#include <string>
#include <vector>

#include "switchyard/server.h"
#include "switchyard/statistics.h"

namespace switchyard::http {

// {"name","version","extensions":[...]}
std::string ServerMetadataJson();

// {"name","versions":[...],"platform","inputs":[{"name","datatype","shape"}],"outputs":[...]}
// Shapes include the batch dimension as -1 when the model batches; variable dims are -1.
std::string ModelMetadataJson(const ModelInfo& model);

// Triton-style config: name, platform, backend, max_batch_size, input/output (name, data_type
// "TYPE_FP32", dims), dynamic_batching (max_queue_delay_microseconds, preferred_batch_size),
// instance_group, parameters.
std::string ModelConfigJson(const ModelInfo& model);

// {"model_stats":[{name, version, last_inference, inference_count, execution_count,
//   inference_stats:{success,fail,queue,compute_input,compute_infer,compute_output:{count,ns}},
//   batch_stats:[{batch_size, compute_input, compute_infer, compute_output}]}]}
std::string StatisticsJson(const std::vector<ModelStatistics>& stats);

// [{"name","version","state","reason"}] for POST /v2/repository/index.
std::string RepositoryIndexJson(const std::vector<ModelInfo>& models);

}  // namespace switchyard::http
