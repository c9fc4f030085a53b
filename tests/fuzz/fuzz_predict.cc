// libFuzzer target for POST /v2/models/{m}/predict: DecodePredictRequest against an HTTP
// envelope model and models with declared inputs, and EncodePredictResponse on the same bytes.
//
// Input layout: the first line (up to '\n', a trailing '\r' dropped) is the request's
// Content-Type, the second its target (path and query); the rest is the body.
// Invariants: a failure is InvalidArgument with a message; on success every input tensor is
// well-formed (Tensor::Validate), an envelope model gets exactly its one `request` element
// holding an envelope, and the priority and timeout are within their bounds. Encoding the body
// as a model's answer never crashes; an envelope's body is a part of the element.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "frontend/http/form_data.h"
#include "frontend/http/predict_codec.h"
#include "repository/config_parser.h"

namespace {

using switchyard::DataType;
using switchyard::ModelConfig;
using switchyard::Shape;
using switchyard::Tensor;

void Check(bool condition) {
  if (!condition) std::abort();
}

// The python model without declared inputs, as the config parser makes it.
ModelConfig EnvelopeModel(int max_batch_size) {
  auto model = switchyard::ParseModelConfig(
      "backend: python\nmax_batch_size: " + std::to_string(max_batch_size) + "\n", "env", "env");
  Check(model.ok());
  return *model;
}

ModelConfig DeclaredModel(int max_batch_size) {
  ModelConfig model;
  model.name = "decl";
  model.backend = "python";
  model.max_batch_size = max_batch_size;
  model.inputs.push_back({"a", DataType::kInt32, {2}});
  model.inputs.push_back({"text", DataType::kBytes, {1}});
  model.inputs.push_back({"x", DataType::kFp32, {-1, 2}});
  model.inputs.push_back({"flag", DataType::kBool, {}});
  model.outputs.push_back({"y", DataType::kFp32, {2}});
  return model;
}

// One input, to reach the raw-body paths.
ModelConfig SingleInputModel(DataType type, Shape dims) {
  ModelConfig model;
  model.name = "single";
  model.backend = "python";
  model.max_batch_size = 2;
  model.inputs.push_back({"in", type, std::move(dims)});
  model.outputs.push_back({"out", DataType::kBytes, {1}});
  return model;
}

const std::vector<ModelConfig>& Models() {
  static const std::vector<ModelConfig> models = {
      EnvelopeModel(4),
      EnvelopeModel(0),
      DeclaredModel(4),
      DeclaredModel(0),
      SingleInputModel(DataType::kBytes, {1}),
      SingleInputModel(DataType::kInt32, {-1}),
  };
  return models;
}

void CheckDecode(std::string_view content_type, std::string_view target, std::string_view body,
                 const ModelConfig& model) {
  switchyard::http::HttpRequest http;
  http.method = switchyard::http::Method::kPost;
  http.target = std::string(target);
  http.content_type = std::string(content_type);
  http.body = std::string(body);
  auto request = switchyard::http::DecodePredictRequest(http, model);
  if (!request.ok()) {
    Check(request.status().code() == switchyard::StatusCode::kInvalidArgument);
    Check(!request.status().message().empty());
    return;
  }
  Check(*request != nullptr);
  const switchyard::InferRequest& decoded = **request;
  Check(decoded.priority >= 0);
  Check(!decoded.timeout_us || *decoded.timeout_us > 0);
  for (const Tensor& tensor : decoded.inputs) {
    Check(tensor.Validate().ok());
    Check(model.FindInput(tensor.name) != nullptr);
  }
  if (model.http_envelope) {
    Check(decoded.inputs.size() == 1);
    const Tensor& tensor = decoded.inputs[0];
    Check(tensor.name == "request" && tensor.datatype == DataType::kBytes);
    Check(tensor.shape == (model.max_batch_size > 0 ? Shape{1, 1} : Shape{1}));
    std::vector<std::string_view> elements;
    Check(switchyard::ForEachBytesElement(tensor.data.bytes(), [&](std::string_view element) {
            elements.push_back(element);
          }).ok());
    Check(elements.size() == 1 && elements[0].starts_with("SYRQ"));
    if (switchyard::http::MediaType(content_type) != "multipart/form-data") {
      Check(elements[0].ends_with(body));  // the whole body is the one part, last
    }
  }
}

void CheckEncode(std::string_view body, const ModelConfig& model) {
  std::vector<std::byte> element;
  switchyard::AppendBytesElement(body, element);
  switchyard::InferResponse response;
  const std::string name = model.outputs.front().name;
  const Shape shape = model.max_batch_size > 0 ? Shape{1, 1} : Shape{1};
  response.outputs.push_back(
      Tensor{name, DataType::kBytes, shape, switchyard::TensorData::Owned(std::move(element))});
  auto reply = switchyard::http::EncodePredictResponse(response, model);
  if (!reply.ok()) {
    Check(reply.status().code() == switchyard::StatusCode::kInternal);
    return;
  }
  if (model.http_envelope) {
    Check(body.ends_with(reply->body));
    Check(!reply->content_type.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  auto line = [&rest] {
    const std::size_t newline = rest.find('\n');
    std::string_view text = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    return text;
  };
  const std::string_view content_type = line();
  const std::string_view target = line();
  // The body in a buffer of its own, so that reading past it is a heap overflow under ASan.
  const std::string body(rest);

  for (const ModelConfig& model : Models()) CheckDecode(content_type, target, body, model);
  CheckEncode(body, Models()[0]);  // an envelope model's answer
  CheckEncode(body, Models()[4]);  // a BYTES output as JSON
  return 0;
}
