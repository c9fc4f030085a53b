// libFuzzer target for the KServe v2 infer request decoder and the response encoder.
//
// Input layout: byte 0 picks how the body is framed (bits 0-1) and the model (bits 2-3);
// bytes 1-2 are a little-endian number `arg`; the rest is the HTTP body.
//   framing 0: no Inference-Header-Content-Length (the body is JSON)
//   framing 1: Inference-Header-Content-Length 0 (the body is raw bytes of the single input)
//   framing 2: Inference-Header-Content-Length = arg (may exceed the body)
//   framing 3: the last min(arg, body size) bytes are binary tensor data
// A decoded request must hold only well-formed tensors; its inputs are then encoded back as a
// response with the encoding the request asked for. One shared-memory region is registered,
// "r" (4 KiB), so that inputs and outputs may name it.

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "frontend/http/kserve_codec.h"

namespace {

using switchyard::DataType;
using switchyard::ModelConfig;

ModelConfig MakeModel(std::string name, int max_batch_size,
                      std::vector<switchyard::TensorSpec> inputs) {
  ModelConfig model;
  model.name = std::move(name);
  model.backend = "sim";
  model.max_batch_size = max_batch_size;
  model.inputs = std::move(inputs);
  model.outputs.push_back({"out", DataType::kFp32, {-1}});
  return model;
}

const ModelConfig& PickModel(unsigned index) {
  static const ModelConfig kModels[] = {
      MakeModel("fp32", 8, {{"x", DataType::kFp32, {-1, 4}}}),
      MakeModel("bytes", 0, {{"s", DataType::kBytes, {-1}}}),
      MakeModel("two", 4, {{"a", DataType::kInt32, {2}}, {"b", DataType::kUint8, {3}}}),
  };
  return kModels[index % 3];
}

void Check(bool condition) {
  if (!condition) std::abort();
}

// A registry holding region "r": a 4 KiB object, unlinked once mapped (nothing is left behind).
const switchyard::http::SharedMemoryRegistry& Regions() {
  static switchyard::http::SharedMemoryRegistry* registry = [] {
    auto* made = new switchyard::http::SharedMemoryRegistry();
    const std::string key = "/switchyard-fuzz-" + std::to_string(::getpid());
    const int fd = ::shm_open(key.c_str(), O_CREAT | O_RDWR, 0600);
    Check(fd >= 0 && ::ftruncate(fd, 4096) == 0);
    ::close(fd);
    Check(made->Register({"r", key, 0, 4096}).ok());
    ::shm_unlink(key.c_str());
    return made;
  }();
  return *registry;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const unsigned framing = data[0] & 3;
  const ModelConfig& model = PickModel(data[0] >> 2);
  const std::size_t arg = data[1] | (std::size_t{data[2]} << 8);
  std::string body(reinterpret_cast<const char*>(data + 3), size - 3);
  std::optional<std::size_t> json_length;
  if (framing == 1) json_length = 0;
  if (framing == 2) json_length = arg;
  if (framing == 3) json_length = body.size() - std::min(arg, body.size());

  auto decoded =
      switchyard::http::DecodeInferRequest(std::move(body), json_length, model, &Regions());
  if (!decoded.ok()) {
    Check(decoded.status().code() == switchyard::StatusCode::kInvalidArgument ||
          decoded.status().code() == switchyard::StatusCode::kNotFound);  // an unknown region
    return 0;
  }
  switchyard::InferResponse response;
  response.model_name = model.name;
  response.model_version = 1;
  response.id = decoded->request->id;
  for (const switchyard::Tensor& input : decoded->request->inputs) {
    Check(input.Validate().ok());
    response.outputs.push_back({input.name, input.datatype, input.shape,
                                switchyard::TensorData::Borrowed(input.data.bytes())});
  }
  auto encoded = switchyard::http::EncodeInferResponse(response, decoded->output_encoding);
  if (!encoded.ok()) {
    // Only a BYTES element that is not UTF-8, asked for as JSON, or an output larger than the
    // shared memory named for it, may fail.
    Check(encoded.status().code() == switchyard::StatusCode::kInvalidArgument);
    return 0;
  }
  Check(!encoded->json_length || *encoded->json_length <= encoded->body.size());
  return 0;
}
