#include "instance/warmup.h"

#include <algorithm>
#include <future>

#include "core/http_envelope.h"
#include "fmt/format.h"

namespace switchyard {
namespace {

// The `request` element of an HTTP envelope model's warm-up: its samples as one request.
std::vector<std::byte> SampleEnvelopeElement(const WarmupConfig& warmup) {
  RequestEnvelope envelope;
  const bool whole_body = warmup.samples.size() == 1 && warmup.samples[0].name.empty();
  envelope.content_type =
      whole_body ? std::string_view(warmup.samples[0].content_type) : "multipart/form-data";
  for (const WarmupSample& sample : warmup.samples) {
    envelope.parts.push_back({sample.name, sample.filename, sample.content_type, sample.data});
  }
  std::vector<std::byte> element;
  // The repository bounds the samples to 64 MiB, far from the envelope's 4 GiB limit.
  (void)AppendRequestEnvelopeElement(envelope, element);
  return element;
}

}  // namespace

InferRequest WarmupRequest(const ModelConfig& config) {
  InferRequest request;
  request.model_name = config.name;
  request.id = "warmup";
  request.batch_size = std::max(1, config.max_batch_size);
  for (const TensorSpec& spec : config.inputs) {
    Shape shape;
    if (config.max_batch_size > 0) shape.push_back(config.max_batch_size);
    for (int64_t dim : spec.dims) shape.push_back(dim < 0 ? 1 : dim);
    auto count = static_cast<std::size_t>(ElementCount(shape));
    std::vector<std::byte> bytes;
    if (config.http_envelope) {
      const std::vector<std::byte> element = SampleEnvelopeElement(config.warmup);
      for (std::size_t i = 0; i < count; ++i)
        bytes.insert(bytes.end(), element.begin(), element.end());
    } else if (spec.datatype == DataType::kBytes) {
      for (std::size_t i = 0; i < count; ++i) AppendBytesElement("0", bytes);
    } else {
      bytes.resize(count * DataTypeSize(spec.datatype));
    }
    request.inputs.push_back({spec.name, spec.datatype, shape, TensorData::Owned(bytes)});
  }
  return request;
}

Status WarmUp(Instance& instance, const ModelConfig& config) {
  for (int i = 0; i < config.warmup.requests; ++i) {
    InferRequest request = WarmupRequest(config);
    InferRequest* batch[] = {&request};
    std::promise<Status> done;
    instance.Execute(batch, [&done](std::vector<RequestOutputs> outputs) {
      done.set_value(outputs.size() == 1 ? outputs[0].status()
                                         : Internal("the backend answered a different batch"));
    });
    Status status = done.get_future().get();
    if (!status.ok()) {
      return Unavailable(fmt::format("instance {} failed warm-up request {} of {}: {}",
                                     instance.name(), i + 1, config.warmup.requests,
                                     status.message()));
    }
  }
  return Status::Ok();
}

}  // namespace switchyard
