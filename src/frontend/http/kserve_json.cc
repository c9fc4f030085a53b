#include "frontend/http/kserve_json.h"

#include <string_view>

#include "frontend/http/json_writer.h"

namespace switchyard::http {
namespace {

const ModelConfig& ConfigOf(const ModelInfo& model) {
  static const ModelConfig kEmpty;
  return model.config ? *model.config : kEmpty;
}

void WriteDims(const Shape& dims, bool batch_dim, JsonWriter& writer) {
  writer.StartArray();
  if (batch_dim) writer.Int(-1);
  for (int64_t dim : dims) writer.Int(dim);
  writer.EndArray();
}

// [{"name","datatype","shape"}] of model metadata.
void WriteTensorMetadata(const std::vector<TensorSpec>& specs, bool batch_dim, JsonWriter& writer) {
  writer.StartArray();
  for (const TensorSpec& spec : specs) {
    writer.StartObject();
    writer.Member("name", spec.name);
    writer.Member("datatype", DataTypeName(spec.datatype));
    writer.Key("shape");
    WriteDims(spec.dims, batch_dim, writer);
    writer.EndObject();
  }
  writer.EndArray();
}

// [{"name","data_type","dims"}] of a Triton model config.
void WriteConfigTensors(const std::vector<TensorSpec>& specs, JsonWriter& writer) {
  writer.StartArray();
  for (const TensorSpec& spec : specs) {
    writer.StartObject();
    writer.Member("name", spec.name);
    writer.Member("data_type", DataTypeConfigName(spec.datatype));
    writer.Key("dims");
    WriteDims(spec.dims, false, writer);
    writer.EndObject();
  }
  writer.EndArray();
}

void WriteInstanceGroup(const InstanceConfig& instances, JsonWriter& writer) {
  const bool cpu = instances.cpu || (!instances.all_devices && instances.device_ids.empty());
  writer.StartArray();
  writer.StartObject();
  writer.IntMember("count", instances.per_device > 0 ? instances.per_device : 1);
  writer.Member("kind", cpu ? "KIND_CPU" : "KIND_GPU");
  if (!cpu && !instances.device_ids.empty()) {
    writer.Key("gpus");
    writer.StartArray();
    for (int id : instances.device_ids) writer.Int(id);
    writer.EndArray();
  }
  writer.EndObject();
  writer.EndArray();
}

void WriteDuration(std::string_view key, const DurationStat& stat, JsonWriter& writer) {
  writer.Key(key);
  writer.StartObject();
  writer.UintMember("count", stat.count);
  writer.UintMember("ns", stat.ns);
  writer.EndObject();
}

void WriteModelStatistics(const ModelStatistics& stats, JsonWriter& writer) {
  writer.StartObject();
  writer.Member("name", stats.name);
  writer.Member("version", stats.version);
  writer.UintMember("last_inference", stats.last_inference_ms);
  writer.UintMember("inference_count", stats.inference_count);
  writer.UintMember("execution_count", stats.execution_count);
  const InferStatistics& infer = stats.inference_stats;
  writer.Key("inference_stats");
  writer.StartObject();
  WriteDuration("success", infer.success, writer);
  WriteDuration("fail", infer.fail, writer);
  WriteDuration("queue", infer.queue, writer);
  WriteDuration("compute_input", infer.compute_input, writer);
  WriteDuration("compute_infer", infer.compute_infer, writer);
  WriteDuration("compute_output", infer.compute_output, writer);
  WriteDuration("cache_hit", DurationStat{}, writer);
  WriteDuration("cache_miss", DurationStat{}, writer);
  writer.EndObject();
  writer.Key("batch_stats");
  writer.StartArray();
  for (const BatchStatistics& batch : stats.batch_stats) {
    writer.StartObject();
    writer.UintMember("batch_size", batch.batch_size);
    WriteDuration("compute_input", batch.compute_input, writer);
    WriteDuration("compute_infer", batch.compute_infer, writer);
    WriteDuration("compute_output", batch.compute_output, writer);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
}

}  // namespace

std::string ServerMetadataJson(std::string_view name, std::string_view version,
                               const std::vector<std::string>& extensions) {
  std::string out;
  JsonWriter writer(&out);
  writer.StartObject();
  writer.Member("name", name);
  writer.Member("version", version);
  writer.Key("extensions");
  writer.StartArray();
  for (const std::string& extension : extensions) writer.String(extension);
  writer.EndArray();
  writer.EndObject();
  return out;
}

std::string ModelMetadataJson(const ModelInfo& model) {
  const ModelConfig& config = ConfigOf(model);
  const bool batch_dim = config.max_batch_size > 0;
  std::string out;
  JsonWriter writer(&out);
  writer.StartObject();
  writer.Member("name", config.name);
  writer.Key("versions");
  writer.StartArray();
  for (int64_t version : model.versions) writer.String(std::to_string(version));
  writer.EndArray();
  writer.Member("platform", config.backend);
  writer.Key("inputs");
  WriteTensorMetadata(config.inputs, batch_dim, writer);
  writer.Key("outputs");
  WriteTensorMetadata(config.outputs, batch_dim, writer);
  writer.EndObject();
  return out;
}

std::string ModelConfigJson(const ModelInfo& model) {
  const ModelConfig& config = ConfigOf(model);
  std::string out;
  JsonWriter writer(&out);
  writer.StartObject();
  writer.Member("name", config.name);
  writer.Member("platform", config.backend);
  writer.Member("backend", config.backend);
  writer.IntMember("max_batch_size", config.max_batch_size);
  writer.Key("input");
  WriteConfigTensors(config.inputs, writer);
  writer.Key("output");
  WriteConfigTensors(config.outputs, writer);
  if (config.max_batch_size > 0) {
    writer.Key("dynamic_batching");
    writer.StartObject();
    writer.IntMember("max_queue_delay_microseconds", config.batching.max_queue_delay_us);
    writer.Key("preferred_batch_size");
    writer.StartArray();
    for (int size : config.batching.preferred_batch_sizes) writer.Int(size);
    writer.EndArray();
    writer.EndObject();
  }
  writer.Key("instance_group");
  WriteInstanceGroup(config.instances, writer);
  writer.Key("parameters");
  writer.StartObject();
  for (const auto& [key, value] : config.parameters) {
    writer.Key(key);
    writer.StartObject();
    writer.Member("string_value", value);
    writer.EndObject();
  }
  writer.EndObject();
  writer.EndObject();
  return out;
}

std::string StatisticsJson(const std::vector<ModelStatistics>& stats) {
  std::string out;
  JsonWriter writer(&out);
  writer.StartObject();
  writer.Key("model_stats");
  writer.StartArray();
  for (const ModelStatistics& model : stats) WriteModelStatistics(model, writer);
  writer.EndArray();
  writer.EndObject();
  return out;
}

std::string RepositoryIndexJson(const std::vector<ModelInfo>& models) {
  std::string out;
  JsonWriter writer(&out);
  writer.StartArray();
  for (const ModelInfo& model : models) {
    writer.StartObject();
    writer.Member("name", ConfigOf(model).name);
    writer.Member("version", std::to_string(model.version));
    writer.Member("state", ModelStateName(model.state));
    writer.Member("reason", model.reason);
    writer.EndObject();
  }
  writer.EndArray();
  return out;
}

}  // namespace switchyard::http
