#pragma once
// JSON documents of the KServe v2 REST API other than inference: server and model metadata,
// model config (Triton's JSON model-config shape, which perf_analyzer reads), statistics and the
// repository index. Pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "switchyard/server.h"
#include "switchyard/statistics.h"

namespace switchyard::http {

// {"name","version","extensions":[...]}
std::string ServerMetadataJson(std::string_view name, std::string_view version,
                               const std::vector<std::string>& extensions);

// {"name","versions":["1",...],"platform","inputs":[{"name","datatype","shape"}],"outputs":[...]}
// "platform" is the config's backend name. Shapes include the batch dimension as -1 when
// the model batches; variable dims are -1. A null model.config reads as an empty config.
std::string ModelMetadataJson(const ModelInfo& model);

// Triton-style config: {"name","platform" (= backend),"backend","max_batch_size",
// "input":[{"name","data_type":"TYPE_FP32","dims":[...]}] (dims without the batch dimension),
// "output":[...], "dynamic_batching":{"max_queue_delay_microseconds","preferred_batch_size"}
// (only when max_batch_size > 0), "instance_group":[{"count","kind":"KIND_CPU"|"KIND_GPU"
// [,"gpus":[...]]}] (count: instances per device, 1 for auto), "parameters":{k:{"string_value"}}}.
// All numbers are JSON numbers.
std::string ModelConfigJson(const ModelInfo& model);

// {"model_stats":[{name, version, last_inference, inference_count, execution_count,
//   inference_stats:{success,fail,queue,compute_input,compute_infer,compute_output,cache_hit,
//   cache_miss:{count,ns}}, batch_stats:[{batch_size, compute_input, compute_infer,
//   compute_output}]}]}
// Versions are strings, counts and ns JSON numbers; cache_hit and cache_miss are always zero
// (no response cache) but present, as Triton writes them.
std::string StatisticsJson(const std::vector<ModelStatistics>& stats);

// [{"name","version","state","reason"}] for POST /v2/repository/index. version is a string;
// state is "READY", "LOADING" or "UNAVAILABLE"; reason is "" when there is none.
std::string RepositoryIndexJson(const std::vector<ModelInfo>& models);

}  // namespace switchyard::http
