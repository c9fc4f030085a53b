#include "frontend/http/predict_codec.h"

#include <charconv>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/http_envelope.h"
#include "fmt/format.h"
#include "frontend/http/form_data.h"
#include "frontend/http/json_writer.h"
#include "frontend/http/kserve_codec.h"
#include "frontend/http/query_string.h"
#include "simdjson.h"

namespace switchyard::http {
namespace {

namespace dom = simdjson::dom;

using Params = std::vector<std::pair<std::string, std::string>>;

// The query parameters the server itself reads: priority and timeout_ms.
Status TakeControls(Params& params, InferRequest& request) {
  Params rest;
  for (auto& [key, value] : params) {
    if (key != "priority" && key != "timeout_ms") {
      rest.emplace_back(std::move(key), std::move(value));
      continue;
    }
    int64_t number = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    const int64_t min = key == "priority" ? 0 : 1;
    if (ec != std::errc() || ptr != value.data() + value.size() || number < min ||
        number > std::numeric_limits<int32_t>::max()) {
      return InvalidArgument(
          fmt::format("query parameter {}: '{}' is not an integer >= {}", key, value, min));
    }
    if (key == "priority") {
      request.priority = static_cast<int>(number);
    } else {
      request.timeout_us = number * 1000;
    }
  }
  params = std::move(rest);
  return Status::Ok();
}

bool IsJson(std::string_view media_type) {
  return media_type == "application/json" || media_type.ends_with("+json");
}

std::string InputNames(const ModelConfig& model) {
  std::string names;
  for (const TensorSpec& spec : model.inputs) names += (names.empty() ? "" : ", ") + spec.name;
  return names;
}

// The envelope model's `request` input holding `envelope`.
Status AddEnvelopeInput(const RequestEnvelope& envelope, const ModelConfig& model,
                        InferRequest& request) {
  std::vector<std::byte> element;
  RETURN_IF_ERROR(AppendRequestEnvelopeElement(envelope, element));
  Shape shape = model.max_batch_size > 0 ? Shape{1, 1} : Shape{1};
  request.inputs.push_back({model.inputs.front().name, DataType::kBytes, std::move(shape),
                            TensorData::Owned(std::move(element))});
  return Status::Ok();
}

// InvalidArgument unless every text of `envelope` is UTF-8. Messages are made only for a failure.
Status CheckEnvelopeTexts(const RequestEnvelope& envelope) {
  const auto utf8 = [](std::string_view text) { return JsonWriter::IsValidUtf8(text); };
  if (!utf8(envelope.content_type)) return InvalidArgument("the Content-Type is not UTF-8");
  for (const auto& [key, value] : envelope.params) {
    if (!utf8(key)) return InvalidArgument("a query parameter's name is not UTF-8");
    if (!utf8(value)) {
      return InvalidArgument(fmt::format("query parameter '{}' is not UTF-8", key));
    }
  }
  for (std::size_t i = 0; i < envelope.parts.size(); ++i) {
    const EnvelopePart& part = envelope.parts[i];
    for (const auto& [text, field] :
         {std::pair{part.name, "name"}, std::pair{part.filename, "filename"},
          std::pair{part.content_type, "content type"}}) {
      if (!utf8(text)) {
        return InvalidArgument(fmt::format("the {} of form part {} is not UTF-8", field, i + 1));
      }
    }
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<InferRequest>> DecodeEnvelope(HttpRequest& http, const ModelConfig& model,
                                                       Params params) {
  auto request = std::make_unique<InferRequest>();
  RequestEnvelope envelope;
  envelope.content_type = http.content_type;
  envelope.params = std::move(params);
  const std::string_view body = http.body.view();
  if (MediaType(http.content_type) == "multipart/form-data") {
    ASSIGN_OR_RETURN(std::vector<FormPart> parts, ParseMultipartForm(http.content_type, body));
    for (const FormPart& part : parts) {
      envelope.parts.push_back({part.name, part.filename, part.content_type, part.data});
    }
  } else {
    envelope.parts.push_back({"", "", http.content_type, body});
  }
  RETURN_IF_ERROR(CheckEnvelopeTexts(envelope));
  RETURN_IF_ERROR(AddEnvelopeInput(envelope, model, *request));
  return request;
}

// A KServe request document (JSON, then the binary section) built from the fields of a predict
// request, so the KServe decoder validates it as it validates /infer.
class KServeBuilder {
 public:
  explicit KServeBuilder(const ModelConfig& model) : model_(model), json_(&text_) {
    json_.StartObject();
    json_.Key("inputs");
    json_.StartArray();
  }

  // An input from a JSON value.
  Status AddJson(const TensorSpec& spec, dom::element value) {
    RETURN_IF_ERROR(Claim(spec));
    ASSIGN_OR_RETURN(Shape shape, ShapeOf(spec, value));
    StartInput(spec, shape);
    json_.Key("data");
    const std::string data = simdjson::minify(value);
    json_.Raw(value.is_array() ? data : "[" + data + "]");
    json_.EndObject();
    return Status::Ok();
  }

  // A BYTES input of one element.
  Status AddElement(const TensorSpec& spec, std::string_view element) {
    RETURN_IF_ERROR(Claim(spec));
    Shape shape;
    for (int64_t dim : spec.dims) {
      if (dim > 1) {
        return InvalidArgument(fmt::format("input '{}' has shape {}: one value cannot fill it",
                                           spec.name, ShapeToString(spec.dims)));
      }
      shape.push_back(1);
    }
    if (model_.max_batch_size > 0) shape.insert(shape.begin(), 1);
    StartInput(spec, shape);
    json_.Key("parameters");
    json_.StartObject();
    json_.UintMember("binary_data_size", 4 + element.size());
    json_.EndObject();
    json_.EndObject();
    const auto length = static_cast<uint32_t>(element.size());
    for (int i = 0; i < 4; ++i) binary_.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
    binary_.append(element);
    return Status::Ok();
  }

  // The body and the length of its JSON part.
  std::pair<std::string, std::size_t> Finish() {
    json_.EndArray();
    json_.EndObject();
    const std::size_t json_length = text_.size();
    return {text_ + binary_, json_length};
  }

 private:
  Status Claim(const TensorSpec& spec) {
    for (const std::string& name : claimed_) {
      if (name == spec.name) return InvalidArgument(fmt::format("input '{}' given twice", name));
    }
    claimed_.push_back(spec.name);
    return Status::Ok();
  }

  // Opens the input's object with its name, datatype and shape; the caller adds the data and
  // closes it.
  void StartInput(const TensorSpec& spec, const Shape& shape) {
    json_.StartObject();
    json_.Member("name", spec.name);
    json_.Member("datatype", DataTypeName(spec.datatype));
    json_.Key("shape");
    json_.StartArray();
    for (int64_t dim : shape) json_.Int(dim);
    json_.EndArray();
  }

  // The declared shape when the value's element count fills it, else the value's own nesting;
  // the batch dimension in front when the model batches.
  StatusOr<Shape> ShapeOf(const TensorSpec& spec, dom::element value) const {
    Shape nested;
    dom::element inner = value;
    while (inner.is_array()) {
      dom::array array = inner.get_array().value_unsafe();
      nested.push_back(static_cast<int64_t>(array.size()));
      if (array.size() == 0) break;
      inner = array.at(0).value_unsafe();
    }
    const int64_t declared = ElementCount(spec.dims);
    const int64_t count = ElementCount(nested);
    Shape shape = declared >= 0 && declared == count ? spec.dims : nested;
    if (shape.size() != spec.dims.size()) {
      return InvalidArgument(fmt::format("input '{}': a value of shape {} does not fit shape {}",
                                         spec.name, ShapeToString(nested),
                                         ShapeToString(spec.dims)));
    }
    if (model_.max_batch_size > 0) shape.insert(shape.begin(), 1);
    return shape;
  }

  const ModelConfig& model_;
  std::string text_;
  JsonWriter json_;
  std::string binary_;
  std::vector<std::string> claimed_;
};

StatusOr<const TensorSpec*> FindInput(const ModelConfig& model, std::string_view name) {
  const TensorSpec* spec = model.FindInput(name);
  if (spec == nullptr) {
    return InvalidArgument(fmt::format("model '{}' has no input '{}' (its inputs: {})", model.name,
                                       name, InputNames(model)));
  }
  return spec;
}

StatusOr<dom::element> ParseJson(dom::parser& parser, std::string_view text,
                                 std::string_view what) {
  dom::element element;
  auto error = parser.parse(text.data(), text.size(), true).get(element);
  if (error != simdjson::SUCCESS) {
    return InvalidArgument(
        fmt::format("{}: invalid JSON: {}", what, simdjson::error_message(error)));
  }
  return element;
}

StatusOr<std::pair<std::string, std::size_t>> BuildKServeBody(const HttpRequest& http,
                                                              const ModelConfig& model,
                                                              Params* extra) {
  KServeBuilder builder(model);
  const std::string media_type = MediaType(http.content_type);
  const std::string_view body = http.body.view();
  dom::parser parser;
  if (media_type == "multipart/form-data") {
    ASSIGN_OR_RETURN(std::vector<FormPart> parts, ParseMultipartForm(http.content_type, body));
    for (const FormPart& part : parts) {
      if (model.FindInput(part.name) == nullptr && part.filename.empty()) {
        extra->emplace_back(part.name, part.data);  // a text field that names no input
        continue;
      }
      ASSIGN_OR_RETURN(const TensorSpec* spec, FindInput(model, part.name));
      if (spec->datatype == DataType::kBytes) {
        RETURN_IF_ERROR(builder.AddElement(*spec, part.data));
        continue;
      }
      ASSIGN_OR_RETURN(dom::element value,
                       ParseJson(parser, part.data, fmt::format("form field '{}'", part.name)));
      RETURN_IF_ERROR(builder.AddJson(*spec, value));
    }
  } else if (IsJson(media_type)) {
    ASSIGN_OR_RETURN(dom::element root, ParseJson(parser, body, "request"));
    dom::object object;
    if (root.get_object().get(object) != simdjson::SUCCESS) {
      return InvalidArgument(fmt::format(
          "request: expected a JSON object whose keys name the inputs ({})", InputNames(model)));
    }
    for (auto [key, value] : object) {
      const TensorSpec* spec = model.FindInput(key);
      if (spec == nullptr) {  // a parameter: a string's contents, another value's JSON text
        std::string_view text;
        extra->emplace_back(key, value.get_string().get(text) == simdjson::SUCCESS
                                     ? std::string(text)
                                     : simdjson::minify(value));
        continue;
      }
      RETURN_IF_ERROR(builder.AddJson(*spec, value));
    }
  } else {
    if (model.inputs.size() != 1) {
      return InvalidArgument(fmt::format(
          "a {} body is one input, and model '{}' has {} (send multipart/form-data or a JSON "
          "object naming them: {})",
          http.content_type.empty() ? "raw" : http.content_type, model.name, model.inputs.size(),
          InputNames(model)));
    }
    if (model.inputs.front().datatype != DataType::kBytes) {
      return std::pair<std::string, std::size_t>{std::string(body), 0};  // raw tensor bytes
    }
    RETURN_IF_ERROR(builder.AddElement(model.inputs.front(), body));
  }
  return builder.Finish();
}

StatusOr<HttpReply> EncodeOutputsAsJson(const InferResponse& response, const ModelConfig& model) {
  std::string body;
  JsonWriter writer(&body);
  writer.StartObject();
  for (const Tensor& output : response.outputs) {
    RETURN_IF_ERROR(output.Validate());
    Shape nesting = output.shape;
    if (model.max_batch_size > 0 && !nesting.empty() && nesting.front() == 1) {
      nesting.erase(nesting.begin());
    }
    writer.Key(output.name);
    RETURN_IF_ERROR(
        WriteTensorValues(output, nesting, fmt::format("output '{}'", output.name), writer));
  }
  writer.EndObject();
  return JsonReply(std::move(body));
}

}  // namespace

StatusOr<std::unique_ptr<InferRequest>> DecodePredictRequest(HttpRequest& http,
                                                             const ModelConfig& model) {
  ASSIGN_OR_RETURN(Params params, ParseQuery(http.target));
  InferRequest controls;
  RETURN_IF_ERROR(TakeControls(params, controls));
  if (model.http_envelope) {
    ASSIGN_OR_RETURN(auto request, DecodeEnvelope(http, model, std::move(params)));
    request->priority = controls.priority;
    request->timeout_us = controls.timeout_us;
    return request;
  }
  Params extra;
  ASSIGN_OR_RETURN(auto built, BuildKServeBody(http, model, &extra));
  const bool raw = built.second == 0;  // the raw bytes of a single non-BYTES input
  ASSIGN_OR_RETURN(DecodedInferRequest decoded,
                   raw ? DecodeInferRequest(std::move(http.body), std::size_t{0}, model)
                       : DecodeInferRequest(std::move(built.first), built.second, model));
  std::unique_ptr<InferRequest> request = std::move(decoded.request);
  request->priority = controls.priority;
  request->timeout_us = controls.timeout_us;
  for (Params* source : {&params, &extra}) {
    for (auto& [key, value] : *source) {
      RETURN_IF_ERROR(AddRequestParameter(*request, std::move(key), std::move(value)));
    }
  }
  return request;
}

StatusOr<HttpReply> EncodePredictResponse(const InferResponse& response, const ModelConfig& model) {
  if (!model.http_envelope) {
    auto reply = EncodeOutputsAsJson(response, model);
    if (!reply.ok()) {  // the model's answer has no JSON form
      return Internal(fmt::format("{} (ask /infer for binary outputs)", reply.status().message()));
    }
    return reply;
  }
  if (response.outputs.size() != 1) {
    return Internal(fmt::format("the model answered {} outputs, expected its response",
                                response.outputs.size()));
  }
  const Tensor& output = response.outputs.front();
  std::vector<std::string_view> elements;
  RETURN_IF_ERROR(ForEachBytesElement(
      output.data.bytes(), [&](std::string_view element) { elements.push_back(element); }));
  if (output.datatype != DataType::kBytes || elements.size() != 1) {
    return Internal("the model's response is not one BYTES element");
  }
  auto envelope = DecodeResponseEnvelope(elements.front());
  if (!envelope.ok()) return Internal(envelope.status().message());
  HttpReply reply;
  reply.content_type = envelope->content_type.empty() ? "application/octet-stream"
                                                      : std::string(envelope->content_type);
  reply.body = std::string(envelope->body);
  return reply;
}

}  // namespace switchyard::http
