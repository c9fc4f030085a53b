// libFuzzer target for the gRPC front end's ModelInferRequest decode path (built with gRPC only).
//
// Input: the bytes of a serialized inference::ModelInferRequest, as a client sends them. What
// parses is decoded (DecodeModelInferRequest, typed `contents` or `raw_input_contents`); a
// decoded request must hold one tensor per input, with the raw contents moved out of the
// message. Its inputs that are well formed (Tensor::Validate, as the core checks them) are then
// encoded back as a response (EncodeModelInferResponse), which must succeed with one raw output
// per tensor, each holding the tensor's bytes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "frontend/grpc/infer_codec.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  inference::ModelInferRequest message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  const int input_count = message.inputs_size();
  auto decoded = switchyard::grpc_frontend::DecodeModelInferRequest(message);
  if (!decoded.ok()) {
    Check(decoded.status().code() == switchyard::StatusCode::kInvalidArgument);
    Check(!decoded.status().message().empty());
    return 0;
  }
  const switchyard::InferRequest& request = *decoded->request;
  Check(static_cast<int>(request.inputs.size()) == input_count);
  Check(message.raw_input_contents_size() == 0);
  Check(request.model_name == message.model_name());

  switchyard::InferResponse response;
  response.model_name = request.model_name;
  response.model_version = 1;
  response.id = request.id;
  for (const switchyard::Tensor& input : request.inputs) {
    if (!input.Validate().ok()) continue;
    response.outputs.push_back({input.name, input.datatype, input.shape,
                                switchyard::TensorData::Borrowed(input.data.bytes())});
  }
  inference::ModelInferResponse encoded;
  switchyard::Status status =
      switchyard::grpc_frontend::EncodeModelInferResponse(response, "asked-for", &encoded);
  Check(status.ok());
  Check(encoded.model_name() == "asked-for");
  Check(encoded.outputs_size() == static_cast<int>(response.outputs.size()));
  Check(encoded.raw_output_contents_size() == encoded.outputs_size());
  for (int i = 0; i < encoded.outputs_size(); ++i) {
    std::span<const std::byte> bytes = response.outputs[static_cast<std::size_t>(i)].data.bytes();
    Check(encoded.raw_output_contents(i).size() == bytes.size());
  }
  return 0;
}
