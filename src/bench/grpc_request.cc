#include "bench/grpc_request.h"

#include <cstring>

#include "bench/load_recorder.h"
#include "bench/request_builder.h"
#include "fmt/format.h"

namespace switchyard::bench {
namespace {

// Reads `bytes` as little-endian values of type T and appends each, converted, to `field`.
template <typename T, typename Field>
void AppendValues(const std::string& bytes, Field* field) {
  for (std::size_t at = 0; at + sizeof(T) <= bytes.size(); at += sizeof(T)) {
    T value;
    std::memcpy(&value, bytes.data() + at, sizeof(T));
    field->Add(value);
  }
}

// BYTES elements, each a 4-byte little-endian length and its bytes.
void AppendStrings(const std::string& bytes, inference::InferTensorContents* contents) {
  std::size_t at = 0;
  while (at + 4 <= bytes.size()) {
    uint32_t length = 0;
    std::memcpy(&length, bytes.data() + at, 4);
    at += 4;
    contents->add_bytes_contents(bytes.substr(at, length));
    at += length;
  }
}

Status FillTyped(const TensorMetadata& input, const std::string& bytes,
                 inference::InferTensorContents* contents) {
  switch (input.datatype) {
    case DataType::kBool:
      AppendValues<uint8_t>(bytes, contents->mutable_bool_contents());
      return Status::Ok();
    case DataType::kInt8:
      AppendValues<int8_t>(bytes, contents->mutable_int_contents());
      return Status::Ok();
    case DataType::kInt16:
      AppendValues<int16_t>(bytes, contents->mutable_int_contents());
      return Status::Ok();
    case DataType::kInt32:
      AppendValues<int32_t>(bytes, contents->mutable_int_contents());
      return Status::Ok();
    case DataType::kInt64:
      AppendValues<int64_t>(bytes, contents->mutable_int64_contents());
      return Status::Ok();
    case DataType::kUint8:
      AppendValues<uint8_t>(bytes, contents->mutable_uint_contents());
      return Status::Ok();
    case DataType::kUint16:
      AppendValues<uint16_t>(bytes, contents->mutable_uint_contents());
      return Status::Ok();
    case DataType::kUint32:
      AppendValues<uint32_t>(bytes, contents->mutable_uint_contents());
      return Status::Ok();
    case DataType::kUint64:
      AppendValues<uint64_t>(bytes, contents->mutable_uint64_contents());
      return Status::Ok();
    case DataType::kFp32:
      AppendValues<float>(bytes, contents->mutable_fp32_contents());
      return Status::Ok();
    case DataType::kFp64:
      AppendValues<double>(bytes, contents->mutable_fp64_contents());
      return Status::Ok();
    case DataType::kBytes:
      AppendStrings(bytes, contents);
      return Status::Ok();
    default:
      return InvalidArgument(
          fmt::format("input '{}' is {}, which has no typed gRPC contents: use "
                      "--grpc-contents raw",
                      input.name, DataTypeName(input.datatype)));
  }
}

}  // namespace

StatusOr<inference::ModelInferRequest> BuildModelInferRequest(
    const std::string& model, const std::vector<TensorMetadata>& inputs, GrpcContents contents,
    uint64_t seed) {
  inference::ModelInferRequest request;
  request.set_model_name(model);
  std::vector<std::string> bytes = BuildInputBytes(inputs, seed);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    inference::ModelInferRequest::InferInputTensor* tensor = request.add_inputs();
    tensor->set_name(inputs[i].name);
    tensor->set_datatype(std::string(DataTypeName(inputs[i].datatype)));
    for (int64_t dim : inputs[i].shape) tensor->add_shape(dim);
    if (contents == GrpcContents::kTyped) {
      RETURN_IF_ERROR(FillTyped(inputs[i], bytes[i], tensor->mutable_contents()));
    } else {
      request.add_raw_input_contents(std::move(bytes[i]));
    }
  }
  return request;
}

GrpcOutcome ClassifyStreamResponse(const inference::ModelStreamInferResponse& response) {
  if (response.error_message().empty()) return {};
  return {kGrpcStreamError, response.error_message()};
}

GrpcOutcome ClassifyBrokenStream(int code, std::string_view message) {
  constexpr unsigned kUnknown = 2;
  if (code == 0) return {kUnknown, "the stream ended without answering"};
  return {static_cast<unsigned>(code), std::string(message)};
}

}  // namespace switchyard::bench
