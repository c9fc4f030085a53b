#include "frontend/grpc/model_messages.h"

namespace switchyard::grpc_frontend {
namespace {

using TensorMetadata = inference::ModelMetadataResponse::TensorMetadata;

const ModelConfig& ConfigOf(const ModelInfo& model) {
  static const ModelConfig kEmpty;
  return model.config ? *model.config : kEmpty;
}

void FillTensorMetadata(const TensorSpec& spec, bool batch_dim, TensorMetadata* out) {
  out->set_name(spec.name);
  out->set_datatype(std::string(DataTypeName(spec.datatype)));
  if (batch_dim) out->add_shape(-1);
  for (int64_t dim : spec.dims) out->add_shape(dim);
}

void FillDuration(const DurationStat& stat, inference::StatisticDuration* out) {
  out->set_count(stat.count);
  out->set_ns(stat.ns);
}

}  // namespace

void FillServerMetadata(std::string_view name, std::string_view version,
                        const std::vector<std::string>& extensions,
                        inference::ServerMetadataResponse* out) {
  out->set_name(std::string(name));
  out->set_version(std::string(version));
  for (const std::string& extension : extensions) out->add_extensions(extension);
}

void FillModelMetadata(const ModelInfo& model, inference::ModelMetadataResponse* out) {
  const ModelConfig& config = ConfigOf(model);
  const bool batch_dim = config.max_batch_size > 0;
  out->set_name(config.name);
  for (int64_t version : model.versions) out->add_versions(std::to_string(version));
  out->set_platform(config.backend);
  for (const TensorSpec& spec : config.inputs) {
    FillTensorMetadata(spec, batch_dim, out->add_inputs());
  }
  for (const TensorSpec& spec : config.outputs) {
    FillTensorMetadata(spec, batch_dim, out->add_outputs());
  }
}

inference::DataType ConfigDataType(DataType datatype) {
  switch (datatype) {
    case DataType::kBool:
      return inference::TYPE_BOOL;
    case DataType::kUint8:
      return inference::TYPE_UINT8;
    case DataType::kUint16:
      return inference::TYPE_UINT16;
    case DataType::kUint32:
      return inference::TYPE_UINT32;
    case DataType::kUint64:
      return inference::TYPE_UINT64;
    case DataType::kInt8:
      return inference::TYPE_INT8;
    case DataType::kInt16:
      return inference::TYPE_INT16;
    case DataType::kInt32:
      return inference::TYPE_INT32;
    case DataType::kInt64:
      return inference::TYPE_INT64;
    case DataType::kFp16:
      return inference::TYPE_FP16;
    case DataType::kBf16:
      return inference::TYPE_BF16;
    case DataType::kFp32:
      return inference::TYPE_FP32;
    case DataType::kFp64:
      return inference::TYPE_FP64;
    case DataType::kBytes:
      return inference::TYPE_STRING;
  }
  return inference::TYPE_INVALID;
}

void FillModelConfig(const ModelInfo& model, inference::ModelConfig* out) {
  const ModelConfig& config = ConfigOf(model);
  out->set_name(config.name);
  out->set_platform(config.backend);
  out->set_backend(config.backend);
  out->set_max_batch_size(config.max_batch_size);
  for (const TensorSpec& spec : config.inputs) {
    auto* input = out->add_input();
    input->set_name(spec.name);
    input->set_data_type(ConfigDataType(spec.datatype));
    for (int64_t dim : spec.dims) input->add_dims(dim);
  }
  for (const TensorSpec& spec : config.outputs) {
    auto* output = out->add_output();
    output->set_name(spec.name);
    output->set_data_type(ConfigDataType(spec.datatype));
    for (int64_t dim : spec.dims) output->add_dims(dim);
  }
  if (config.max_batch_size > 0) {
    auto* batching = out->mutable_dynamic_batching();
    for (int size : config.batching.preferred_batch_sizes) batching->add_preferred_batch_size(size);
    batching->set_max_queue_delay_microseconds(
        static_cast<uint64_t>(config.batching.max_queue_delay_us));
    batching->set_priority_levels(static_cast<uint64_t>(config.queue.priority_levels));
  }
  const InstanceConfig& instances = config.instances;
  const bool cpu = instances.cpu || (!instances.all_devices && instances.device_ids.empty());
  auto* group = out->add_instance_group();
  group->set_count(instances.per_device > 0 ? instances.per_device : 1);
  group->set_kind(cpu ? inference::ModelInstanceGroup::KIND_CPU
                      : inference::ModelInstanceGroup::KIND_GPU);
  if (!cpu) {
    for (int id : instances.device_ids) group->add_gpus(id);
  }
  auto* parameters = out->mutable_parameters();
  for (const auto& [key, value] : config.parameters) {
    (*parameters)[key].set_string_value(value);
  }
}

void FillStatistics(const std::vector<ModelStatistics>& stats,
                    inference::ModelStatisticsResponse* out) {
  for (const ModelStatistics& model : stats) {
    auto* entry = out->add_model_stats();
    entry->set_name(model.name);
    entry->set_version(model.version);
    entry->set_last_inference(model.last_inference_ms);
    entry->set_inference_count(model.inference_count);
    entry->set_execution_count(model.execution_count);
    const InferStatistics& infer = model.inference_stats;
    auto* infer_out = entry->mutable_inference_stats();
    FillDuration(infer.success, infer_out->mutable_success());
    FillDuration(infer.fail, infer_out->mutable_fail());
    FillDuration(infer.queue, infer_out->mutable_queue());
    FillDuration(infer.compute_input, infer_out->mutable_compute_input());
    FillDuration(infer.compute_infer, infer_out->mutable_compute_infer());
    FillDuration(infer.compute_output, infer_out->mutable_compute_output());
    infer_out->mutable_cache_hit();  // no response cache: present and zero, as Triton sends it
    infer_out->mutable_cache_miss();
    for (const BatchStatistics& batch : model.batch_stats) {
      auto* batch_out = entry->add_batch_stats();
      batch_out->set_batch_size(batch.batch_size);
      FillDuration(batch.compute_input, batch_out->mutable_compute_input());
      FillDuration(batch.compute_infer, batch_out->mutable_compute_infer());
      FillDuration(batch.compute_output, batch_out->mutable_compute_output());
    }
  }
}

void FillRepositoryIndex(const std::vector<ModelInfo>& models,
                         inference::RepositoryIndexResponse* out) {
  for (const ModelInfo& model : models) {
    auto* entry = out->add_models();
    entry->set_name(ConfigOf(model).name);
    entry->set_version(std::to_string(model.version));
    entry->set_state(std::string(ModelStateName(model.state)));
    entry->set_reason(model.reason);
  }
}

}  // namespace switchyard::grpc_frontend
