// POST /v2/models/{m}/predict: DecodePredictRequest for envelope and declared models, and
// EncodePredictResponse.
#include "frontend/http/predict_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "repository/config_parser.h"
#include "testing/tensor_bytes.h"

namespace switchyard::http {
namespace {

using namespace std::string_literals;
using ::switchyard::testing::BytesElements;
using ::switchyard::testing::Le;
using ::testing::HasSubstr;

// The python model without declared inputs (one BYTES `request` in, one BYTES `response` out),
// as the config parser makes it.
ModelConfig EnvelopeModel(int max_batch_size = 4) {
  auto model = ParseModelConfig(
      "backend: python\nmax_batch_size: " + std::to_string(max_batch_size) + "\n", "env", "env");
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return *model;
}

// A model with declared inputs: INT32 [2] `a`, BYTES [1] `text`; FP32 [2] output `y`.
ModelConfig DeclaredModel(int max_batch_size = 4) {
  ModelConfig model;
  model.name = "decl";
  model.backend = "python";
  model.max_batch_size = max_batch_size;
  model.inputs.push_back({"a", DataType::kInt32, {2}});
  model.inputs.push_back({"text", DataType::kBytes, {1}});
  model.outputs.push_back({"y", DataType::kFp32, {2}});
  return model;
}

ModelConfig SingleInputModel(DataType type, Shape dims, int max_batch_size = 4) {
  ModelConfig model;
  model.name = "single";
  model.backend = "python";
  model.max_batch_size = max_batch_size;
  model.inputs.push_back({"in", type, std::move(dims)});
  model.outputs.push_back({"out", DataType::kFp32, {1}});
  return model;
}

HttpRequest Post(std::string target, std::string content_type, std::string body) {
  HttpRequest http;
  http.method = Method::kPost;
  http.target = std::move(target);
  http.content_type = std::move(content_type);
  http.body = std::move(body);
  return http;
}

StatusOr<std::unique_ptr<InferRequest>> Decode(std::string target, std::string content_type,
                                               std::string body, const ModelConfig& model) {
  HttpRequest http = Post(std::move(target), std::move(content_type), std::move(body));
  return DecodePredictRequest(http, model);
}

std::string AsString(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::vector<std::byte> Data(const Tensor& tensor) {
  auto bytes = tensor.data.bytes();
  return {bytes.begin(), bytes.end()};
}

const Tensor* FindTensor(const InferRequest& request, std::string_view name) {
  for (const Tensor& tensor : request.inputs) {
    if (tensor.name == name) return &tensor;
  }
  return nullptr;
}

// The request envelope, read back by the test's own reader (the layout in core/http_envelope.h).
struct Part {
  std::string name, filename, content_type, data;
  bool operator==(const Part&) const = default;
};
struct Envelope {
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<Part> parts;
};

class EnvelopeReader {
 public:
  explicit EnvelopeReader(std::string_view in) : in_(in) {}
  uint64_t Le(int bytes) {
    EXPECT_GE(in_.size(), static_cast<std::size_t>(bytes));
    uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i) {
      value = (value << 8) | static_cast<uint8_t>(in_[static_cast<std::size_t>(i)]);
    }
    in_.remove_prefix(static_cast<std::size_t>(bytes));
    return value;
  }
  std::string Take(std::size_t n) {
    EXPECT_GE(in_.size(), n);
    std::string out(in_.substr(0, n));
    in_.remove_prefix(std::min(n, in_.size()));
    return out;
  }
  std::string Str() { return Take(Le(4)); }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

// The one element of the request's `request` tensor, as an Envelope.
Envelope ReadEnvelope(const Tensor& tensor) {
  std::vector<std::string> elements;
  EXPECT_TRUE(ForEachBytesElement(tensor.data.bytes(), [&](std::string_view element) {
                elements.emplace_back(element);
              }).ok());
  EXPECT_EQ(elements.size(), 1u);
  if (elements.size() != 1) return {};
  EnvelopeReader r(elements[0]);
  Envelope envelope;
  EXPECT_EQ(r.Take(4), "SYRQ");
  EXPECT_EQ(r.Le(4), 1u);
  envelope.content_type = r.Str();
  for (uint64_t i = 0, n = r.Le(4); i < n; ++i) {
    std::string key = r.Str();
    envelope.params.emplace_back(std::move(key), r.Str());
  }
  for (uint64_t i = 0, n = r.Le(4); i < n; ++i) {
    Part part;
    part.name = r.Str();
    part.filename = r.Str();
    part.content_type = r.Str();
    part.data = r.Take(r.Le(8));
    envelope.parts.push_back(std::move(part));
  }
  EXPECT_TRUE(r.done()) << "bytes after the envelope";
  return envelope;
}

using Params = std::vector<std::pair<std::string, std::string>>;

constexpr char kFormType[] = "multipart/form-data; boundary=XyZ";
const std::string kFormBody =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"image\"; filename=\"cat.png\"\r\n"
    "Content-Type: image/png\r\n"
    "\r\n"
    "\x89PNG\0\xff\r\n"s
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"question\"\r\n"
    "\r\n"
    "what is it?\r\n"
    "--XyZ--\r\n";

// ---------------------------------------------------------------------------------------------
// Envelope models

TEST(PredictEnvelopeTest, MultipartBodyBecomesPartsAndQueryParams) {
  auto request = Decode("/v2/models/env/predict?priority=2&timeout_ms=250&lang=en&q=a%20b+c",
                        kFormType, kFormBody, EnvelopeModel());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ((*request)->priority, 2);
  EXPECT_EQ((*request)->timeout_us, 250000);
  ASSERT_EQ((*request)->inputs.size(), 1u);
  const Tensor& tensor = (*request)->inputs[0];
  EXPECT_EQ(tensor.name, "request");
  EXPECT_EQ(tensor.datatype, DataType::kBytes);
  EXPECT_EQ(tensor.shape, (Shape{1, 1}));
  EXPECT_TRUE(tensor.Validate().ok());

  const Envelope envelope = ReadEnvelope(tensor);
  EXPECT_EQ(envelope.content_type, kFormType);
  EXPECT_EQ(envelope.params, (Params{{"lang", "en"}, {"q", "a b c"}}));
  ASSERT_EQ(envelope.parts.size(), 2u);
  EXPECT_EQ(envelope.parts[0], (Part{"image", "cat.png", "image/png", "\x89PNG\0\xff"s}));
  EXPECT_EQ(envelope.parts[1], (Part{"question", "", "", "what is it?"}));
}

TEST(PredictEnvelopeTest, JsonBodyIsOneUnnamedPart) {
  auto request = Decode("/v2/models/env/predict", "application/json; charset=utf-8",
                        R"({"x": [1, 2]})", EnvelopeModel());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ((*request)->priority, 0);
  EXPECT_FALSE((*request)->timeout_us.has_value());
  ASSERT_EQ((*request)->inputs.size(), 1u);
  const Envelope envelope = ReadEnvelope((*request)->inputs[0]);
  EXPECT_EQ(envelope.content_type, "application/json; charset=utf-8");
  EXPECT_TRUE(envelope.params.empty());
  ASSERT_EQ(envelope.parts.size(), 1u);
  EXPECT_EQ(envelope.parts[0],
            (Part{"", "", "application/json; charset=utf-8", R"({"x": [1, 2]})"}));
}

TEST(PredictEnvelopeTest, EmptyBodyWithoutContentType) {
  auto request = Decode("/v2/models/env/predict?x", "", "", EnvelopeModel());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  const Envelope envelope = ReadEnvelope((*request)->inputs[0]);
  EXPECT_EQ(envelope.content_type, "");
  EXPECT_EQ(envelope.params, (Params{{"x", ""}}));
  ASSERT_EQ(envelope.parts.size(), 1u);
  EXPECT_EQ(envelope.parts[0], (Part{"", "", "", ""}));
}

TEST(PredictEnvelopeTest, ShapeWithoutBatching) {
  auto request = Decode("/v2/models/env/predict", "text/plain", "hi", EnvelopeModel(0));
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ASSERT_EQ((*request)->inputs.size(), 1u);
  EXPECT_EQ((*request)->inputs[0].shape, (Shape{1}));
  EXPECT_TRUE((*request)->inputs[0].Validate().ok());
}

TEST(PredictEnvelopeTest, MalformedMultipartIsInvalidArgument) {
  for (const auto& [content_type, body] : std::vector<std::pair<std::string, std::string>>{
           {"multipart/form-data", kFormBody},  // no boundary
           {kFormType, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx"},  // no end
           {kFormType, "no delimiter at all"},
           {kFormType, "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--"},  // no name
       }) {
    auto request = Decode("/v2/models/env/predict", content_type, body, EnvelopeModel());
    ASSERT_FALSE(request.ok()) << content_type << " / " << body;
    EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument) << body;
  }
}

TEST(PredictEnvelopeTest, TextsThatAreNotUtf8AreRefused) {
  auto param = Decode("/v2/models/env/predict?x=%FF", "text/plain", "x", EnvelopeModel());
  ASSERT_FALSE(param.ok());
  EXPECT_THAT(param.status().message(), HasSubstr("query parameter 'x' is not UTF-8"));
  const std::string form =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"\xff.png\"\r\n\r\n"
      "\xff\xfe\r\n--XyZ--\r\n";
  auto part = Decode("/v2/models/env/predict", kFormType, form, EnvelopeModel());
  ASSERT_FALSE(part.ok());
  EXPECT_THAT(part.status().message(), HasSubstr("the filename of form part 1 is not UTF-8"));
  // The data itself is bytes: anything goes.
  const std::string binary =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a.bin\"\r\n\r\n"
      "\xff\xfe\r\n--XyZ--\r\n";
  EXPECT_TRUE(Decode("/v2/models/env/predict", kFormType, binary, EnvelopeModel()).ok());
}

TEST(PredictEnvelopeTest, BadControlsAreInvalidArgument) {
  for (const char* query :
       {"?priority=high", "?priority=-1", "?priority=", "?priority=1.5", "?priority=+1",
        "?priority=2147483648", "?timeout_ms=0", "?timeout_ms=-5", "?timeout_ms=1s", "?x=%zz"}) {
    auto request =
        Decode(std::string("/v2/models/env/predict") + query, "text/plain", "x", EnvelopeModel());
    ASSERT_FALSE(request.ok()) << query;
    EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument) << query;
  }
  auto request = Decode("/v2/models/env/predict?priority=high", "text/plain", "x", EnvelopeModel());
  EXPECT_THAT(request.status().message(), HasSubstr("priority"));
  EXPECT_THAT(request.status().message(), HasSubstr("'high'"));
}

TEST(PredictEnvelopeTest, ControlBoundsAreAccepted) {
  auto request = Decode("/v2/models/env/predict?priority=0&timeout_ms=2147483647", "text/plain",
                        "x", EnvelopeModel());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ((*request)->priority, 0);
  EXPECT_EQ((*request)->timeout_us, int64_t{2147483647} * 1000);
  EXPECT_TRUE(ReadEnvelope((*request)->inputs[0]).params.empty());
}

// ---------------------------------------------------------------------------------------------
// Declared models

TEST(PredictDeclaredTest, JsonObjectFillsTheInputs) {
  auto request = Decode("/v2/models/decl/predict", "application/json",
                        R"({"a": [1, -2], "text": "hi"})", DeclaredModel());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ASSERT_EQ((*request)->inputs.size(), 2u);
  const Tensor* a = FindTensor(**request, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->datatype, DataType::kInt32);
  EXPECT_EQ(a->shape, (Shape{1, 2}));
  EXPECT_EQ(Data(*a), Le<int32_t>({1, -2}));
  const Tensor* text = FindTensor(**request, "text");
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->datatype, DataType::kBytes);
  EXPECT_EQ(text->shape, (Shape{1, 1}));
  EXPECT_EQ(Data(*text), BytesElements({"hi"}));
  for (const Tensor& tensor : (*request)->inputs) EXPECT_TRUE(tensor.Validate().ok());
  EXPECT_EQ((*request)->batch_size, 1);
}

TEST(PredictDeclaredTest, WithoutBatchingNoBatchDimension) {
  auto request = Decode("/v2/models/decl/predict", "application/json",
                        R"({"a": [3, 4], "text": "caf\u00e9"})", DeclaredModel(0));
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  const Tensor* a = FindTensor(**request, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->shape, (Shape{2}));
  EXPECT_EQ(Data(*a), Le<int32_t>({3, 4}));
  const Tensor* text = FindTensor(**request, "text");
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->shape, (Shape{1}));
  EXPECT_EQ(Data(*text), BytesElements({"caf\xc3\xa9"}));
}

TEST(PredictDeclaredTest, ControlsReachTheRequest) {
  auto request = Decode("/v2/models/decl/predict?priority=3&timeout_ms=7", "application/json",
                        R"({"a": [1, 2]})", DeclaredModel());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ((*request)->priority, 3);
  EXPECT_EQ((*request)->timeout_us, 7000);
}

TEST(PredictDeclaredTest, JsonMediaTypesAreRecognised) {
  for (const char* type :
       {"Application/JSON", "application/json; charset=utf-8", "application/vnd.api+json"}) {
    auto request = Decode("/v2/models/decl/predict", type, R"({"a": [1, 2]})", DeclaredModel());
    ASSERT_TRUE(request.ok()) << type << ": " << request.status().ToString();
    ASSERT_EQ((*request)->inputs.size(), 1u) << type;
    EXPECT_EQ(Data((*request)->inputs[0]), Le<int32_t>({1, 2})) << type;
  }
}

TEST(PredictDeclaredTest, ScalarFillsAOneElementInput) {
  const ModelConfig model = SingleInputModel(DataType::kFp32, {1});
  for (const char* body : {R"({"in": 2.5})", R"({"in": [2.5]})"}) {
    auto request = Decode("/v2/models/single/predict", "application/json", body, model);
    ASSERT_TRUE(request.ok()) << body << ": " << request.status().ToString();
    ASSERT_EQ((*request)->inputs.size(), 1u);
    EXPECT_EQ((*request)->inputs[0].shape, (Shape{1, 1})) << body;
    EXPECT_EQ(Data((*request)->inputs[0]), Le<float>({2.5f})) << body;
  }
}

TEST(PredictDeclaredTest, NestedValueTakesTheDeclaredShape) {
  const ModelConfig model = SingleInputModel(DataType::kInt32, {2, 2}, 0);
  auto request =
      Decode("/v2/models/single/predict", "application/json", R"({"in": [1, 2, 3, 4]})", model);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ((*request)->inputs[0].shape, (Shape{2, 2}));
  EXPECT_EQ(Data((*request)->inputs[0]), Le<int32_t>({1, 2, 3, 4}));
}

TEST(PredictDeclaredTest, VariableDimensionTakesTheValuesShape) {
  const ModelConfig model = SingleInputModel(DataType::kInt64, {-1});
  auto request =
      Decode("/v2/models/single/predict", "application/json", R"({"in": [5, 6, 7]})", model);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ((*request)->inputs[0].shape, (Shape{1, 3}));
  EXPECT_EQ(Data((*request)->inputs[0]), Le<int64_t>({5, 6, 7}));
}

TEST(PredictDeclaredTest, KeysAndQueryParametersThatNameNoInputAreRequestParameters) {
  auto request =
      Decode("/v2/models/decl/predict?lang=en&priority=1", "application/json",
             R"({"a": [1, 2], "text": "t", "b": 1, "s": "x y", "o": {"k": [1]}})", DeclaredModel());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ((*request)->parameters,
            (std::vector<std::pair<std::string, std::string>>{
                {"lang", "en"}, {"b", "1"}, {"s", "x y"}, {"o", R"({"k":[1]})"}}));
  EXPECT_EQ((*request)->priority, 1);  // the server's, not the model's
  EXPECT_EQ((*request)->inputs.size(), 2u);
}

TEST(PredictDeclaredTest, TooManyParametersAreRefused) {
  std::string target = "/v2/models/decl/predict?";
  for (int i = 0; i <= 64; ++i) target += "p" + std::to_string(i) + "=1&";
  auto request =
      Decode(target, "application/json", R"({"a": [1, 2], "text": "t"})", DeclaredModel());
  ASSERT_FALSE(request.ok());
  EXPECT_THAT(request.status().message(), HasSubstr("at most 64 parameters"));
}

TEST(PredictDeclaredTest, InputGivenTwiceIsRefused) {
  auto request = Decode("/v2/models/decl/predict", "application/json",
                        R"({"a": [1, 2], "a": [3, 4]})", DeclaredModel());
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(request.status().message(), HasSubstr("'a' given twice"));
}

TEST(PredictDeclaredTest, ValueOfTheWrongRankIsRefused) {
  // 4 values do not fill [2], and their own shape [2,2] is not of its rank.
  auto request = Decode("/v2/models/decl/predict", "application/json", R"({"a": [[1, 2], [3, 4]]})",
                        DeclaredModel());
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(request.status().message(), HasSubstr("'a'"));
  EXPECT_THAT(request.status().message(), HasSubstr("does not fit shape [2]"));
}

TEST(PredictDeclaredTest, WrongElementCountOfTheRightRankKeepsItsShape) {
  // [3] has the rank of [2]: the value keeps its own shape, and the core's validation against
  // the model (not this codec) refuses it.
  auto request =
      Decode("/v2/models/decl/predict", "application/json", R"({"a": [1, 2, 3]})", DeclaredModel());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ((*request)->inputs[0].shape, (Shape{1, 3}));
  EXPECT_TRUE((*request)->inputs[0].Validate().ok());
}

TEST(PredictDeclaredTest, RaggedValueIsRefused) {
  const ModelConfig model = SingleInputModel(DataType::kInt32, {2, 2});
  auto request =
      Decode("/v2/models/single/predict", "application/json", R"({"in": [[1, 2], [3]]})", model);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
}

TEST(PredictDeclaredTest, ValueOfTheWrongTypeIsRefused) {
  for (const char* body : {R"({"a": ["x", "y"]})", R"({"a": [1.5, 2]})", R"({"text": 5})"}) {
    auto request = Decode("/v2/models/decl/predict", "application/json", body, DeclaredModel());
    ASSERT_FALSE(request.ok()) << body;
    EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument) << body;
  }
}

TEST(PredictDeclaredTest, NonObjectJsonIsRefused) {
  for (const char* body : {"[1, 2]", "5", "\"a\"", "null"}) {
    auto request = Decode("/v2/models/decl/predict", "application/json", body, DeclaredModel());
    ASSERT_FALSE(request.ok()) << body;
    EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument) << body;
    EXPECT_THAT(request.status().message(), HasSubstr("expected a JSON object")) << body;
  }
}

TEST(PredictDeclaredTest, InvalidJsonIsRefused) {
  for (const char* body : {"{", "", "{\"a\": [1, 2]} x"}) {
    auto request = Decode("/v2/models/decl/predict", "application/json", body, DeclaredModel());
    ASSERT_FALSE(request.ok()) << body;
    EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument) << body;
    EXPECT_THAT(request.status().message(), HasSubstr("invalid JSON")) << body;
  }
}

TEST(PredictDeclaredTest, MultipartTextFieldIsJsonAndFileIsBytes) {
  const std::string file = "\x00\xff\xfe raw"s;
  const std::string body =
      "--b\r\n"
      "Content-Disposition: form-data; name=\"a\"\r\n"
      "\r\n"
      "[7, 8]\r\n"
      "--b\r\n"
      "Content-Disposition: form-data; name=\"text\"; filename=\"t.bin\"\r\n"
      "Content-Type: application/octet-stream\r\n"
      "\r\n" +
      file +
      "\r\n"
      "--b--\r\n";
  auto request = Decode("/v2/models/decl/predict?priority=1", "multipart/form-data; boundary=b",
                        body, DeclaredModel());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ((*request)->priority, 1);
  const Tensor* a = FindTensor(**request, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->shape, (Shape{1, 2}));
  EXPECT_EQ(Data(*a), Le<int32_t>({7, 8}));
  const Tensor* text = FindTensor(**request, "text");
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->shape, (Shape{1, 1}));
  EXPECT_EQ(Data(*text), BytesElements({file}));
  for (const Tensor& tensor : (*request)->inputs) EXPECT_TRUE(tensor.Validate().ok());
}

TEST(PredictDeclaredTest, MultipartFieldThatIsNotJsonIsRefused) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nseven\r\n--b--\r\n";
  auto request =
      Decode("/v2/models/decl/predict", "multipart/form-data; boundary=b", body, DeclaredModel());
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(request.status().message(), HasSubstr("form field 'a'"));
}

TEST(PredictDeclaredTest, MultipartUnknownFileIsRefusedAndUnknownTextIsAParameter) {
  const std::string file =
      "--b\r\nContent-Disposition: form-data; name=\"zz\"; filename=\"z.bin\"\r\n\r\n1\r\n"
      "--b--\r\n";
  auto refused =
      Decode("/v2/models/decl/predict", "multipart/form-data; boundary=b", file, DeclaredModel());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("no input 'zz'"));
  EXPECT_THAT(refused.status().message(), HasSubstr("a, text"));
  const std::string text =
      "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n[1, 2]\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhi\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"zz\"\r\n\r\nfast\r\n--b--\r\n";
  auto request =
      Decode("/v2/models/decl/predict", "multipart/form-data; boundary=b", text, DeclaredModel());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ((*request)->parameters,
            (std::vector<std::pair<std::string, std::string>>{{"zz", "fast"}}));
}

TEST(PredictDeclaredTest, OneElementCannotFillABytesInputOfSeveral) {
  const ModelConfig model = SingleInputModel(DataType::kBytes, {2});
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"in\"\r\n\r\nx\r\n--b--\r\n";
  auto request =
      Decode("/v2/models/single/predict", "multipart/form-data; boundary=b", body, model);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(request.status().message(), HasSubstr("one value cannot fill it"));
}

TEST(PredictDeclaredTest, RawBodyIsTheSingleBytesInput) {
  const ModelConfig model = SingleInputModel(DataType::kBytes, {1});
  const std::string body = "\x89PNG\0\xff"s;
  auto request = Decode("/v2/models/single/predict?timeout_ms=3", "image/png", body, model);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ASSERT_EQ((*request)->inputs.size(), 1u);
  const Tensor& tensor = (*request)->inputs[0];
  EXPECT_EQ(tensor.name, "in");
  EXPECT_EQ(tensor.shape, (Shape{1, 1}));
  EXPECT_EQ(Data(tensor), BytesElements({body}));
  EXPECT_EQ((*request)->timeout_us, 3000);
}

TEST(PredictDeclaredTest, RawBodyIsTheSingleTensorsBytes) {
  const ModelConfig model = SingleInputModel(DataType::kInt32, {2});
  auto request = Decode("/v2/models/single/predict?priority=4&timeout_ms=9",
                        "application/octet-stream", AsString(Le<int32_t>({5, -6})), model);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ASSERT_EQ((*request)->inputs.size(), 1u);
  const Tensor& tensor = (*request)->inputs[0];
  EXPECT_EQ(tensor.shape, (Shape{1, 2}));
  EXPECT_EQ(Data(tensor), Le<int32_t>({5, -6}));
  EXPECT_EQ((*request)->priority, 4);
  EXPECT_EQ((*request)->timeout_us, 9000);
}

TEST(PredictDeclaredTest, RawBodyOfTheWrongSizeIsRefused) {
  const ModelConfig model = SingleInputModel(DataType::kInt32, {2});
  auto request = Decode("/v2/models/single/predict", "", "12345", model);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
}

TEST(PredictDeclaredTest, RawBodyForTwoInputsIsRefused) {
  for (const char* type : {"text/plain", ""}) {
    auto request = Decode("/v2/models/decl/predict", type, "hello", DeclaredModel());
    ASSERT_FALSE(request.ok()) << type;
    EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(request.status().message(), HasSubstr("model 'decl' has 2"));
    EXPECT_THAT(request.status().message(), HasSubstr("a, text"));
  }
}

TEST(PredictDeclaredTest, BadControlsAreRefused) {
  auto request = Decode("/v2/models/decl/predict?timeout_ms=0", "application/json",
                        R"({"a": [1, 2]})", DeclaredModel());
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(request.status().message(), HasSubstr("timeout_ms"));
}

// ---------------------------------------------------------------------------------------------
// EncodePredictResponse

std::string LeBytes(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return out;
}

// A response element, laid out by hand as core/http_envelope.h describes.
std::string ResponseElement(std::string_view content_type, std::string_view body) {
  return "SYRS" + LeBytes(1, 4) + LeBytes(content_type.size(), 4) + std::string(content_type) +
         LeBytes(body.size(), 8) + std::string(body);
}

Tensor Output(std::string name, DataType type, Shape shape, std::vector<std::byte> bytes) {
  return Tensor{std::move(name), type, std::move(shape), TensorData::Owned(std::move(bytes))};
}

InferResponse ResponseOf(std::vector<Tensor> outputs) {
  InferResponse response;
  response.model_name = "m";
  response.model_version = 1;
  response.outputs = std::move(outputs);
  return response;
}

InferResponse EnvelopeResponse(std::initializer_list<std::string_view> elements,
                               Shape shape = {1, 1}) {
  std::vector<Tensor> outputs;
  outputs.push_back(
      Output("response", DataType::kBytes, std::move(shape), BytesElements(elements)));
  return ResponseOf(std::move(outputs));
}

TEST(PredictResponseTest, EnvelopeBecomesBodyAndContentType) {
  const std::string body = "\x89PNG\0\xff"s;
  const std::string element = ResponseElement("image/png", body);
  auto reply = EncodePredictResponse(EnvelopeResponse({element}), EnvelopeModel());
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200u);
  EXPECT_EQ(reply->content_type, "image/png");
  EXPECT_EQ(reply->body, body);
}

TEST(PredictResponseTest, EnvelopeWithoutBatching) {
  const std::string element = ResponseElement("text/plain; charset=utf-8", "hello");
  auto reply = EncodePredictResponse(EnvelopeResponse({element}, {1}), EnvelopeModel(0));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(reply->body, "hello");
}

TEST(PredictResponseTest, EmptyContentTypeIsOctetStream) {
  const std::string element = ResponseElement("", "bytes");
  auto reply = EncodePredictResponse(EnvelopeResponse({element}), EnvelopeModel());
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->content_type, "application/octet-stream");
  EXPECT_EQ(reply->body, "bytes");
}

TEST(PredictResponseTest, NotAnEnvelopeIsInternal) {
  const std::string good = ResponseElement("text/plain", "x");
  const std::string truncated = good.substr(0, good.size() - 1);
  for (const std::string& element : {"hello"s, truncated, ResponseElement("a", "b") + "!"}) {
    auto reply = EncodePredictResponse(EnvelopeResponse({element}), EnvelopeModel());
    ASSERT_FALSE(reply.ok()) << element;
    EXPECT_EQ(reply.status().code(), StatusCode::kInternal) << element;
    EXPECT_THAT(reply.status().message(), HasSubstr("not a response envelope"));
  }
}

TEST(PredictResponseTest, ResponseThatIsNotOneBytesElementIsInternal) {
  const std::string element = ResponseElement("text/plain", "x");
  // Two elements.
  auto two = EncodePredictResponse(EnvelopeResponse({element, element}, {1, 2}), EnvelopeModel());
  EXPECT_EQ(two.status().code(), StatusCode::kInternal);
  // No outputs, two outputs.
  EXPECT_EQ(EncodePredictResponse(ResponseOf({}), EnvelopeModel()).status().code(),
            StatusCode::kInternal);
  std::vector<Tensor> outputs;
  outputs.push_back(Output("response", DataType::kBytes, {1, 1}, BytesElements({element})));
  outputs.push_back(Output("extra", DataType::kBytes, {1, 1}, BytesElements({element})));
  EXPECT_EQ(EncodePredictResponse(ResponseOf(std::move(outputs)), EnvelopeModel()).status().code(),
            StatusCode::kInternal);
  // Not BYTES, though its bytes read as one element.
  std::vector<Tensor> fp32;
  fp32.push_back(Output("response", DataType::kFp32, {1, 1}, BytesElements({""})));
  EXPECT_EQ(EncodePredictResponse(ResponseOf(std::move(fp32)), EnvelopeModel()).status().code(),
            StatusCode::kInternal);
  // Truncated BYTES.
  std::vector<std::byte> cut = BytesElements({element});
  cut.pop_back();
  std::vector<Tensor> truncated;
  truncated.push_back(Output("response", DataType::kBytes, {1, 1}, std::move(cut)));
  EXPECT_FALSE(EncodePredictResponse(ResponseOf(std::move(truncated)), EnvelopeModel()).ok());
}

StatusOr<HttpReply> EncodeDeclared(std::vector<Tensor> outputs, int max_batch_size = 4) {
  return EncodePredictResponse(ResponseOf(std::move(outputs)), DeclaredModel(max_batch_size));
}

TEST(PredictResponseTest, DeclaredOutputWithoutTheBatchDimension) {
  std::vector<Tensor> outputs;
  outputs.push_back(Output("y", DataType::kFp32, {1, 2}, Le<float>({0.5f, 1.5f})));
  auto reply = EncodeDeclared(std::move(outputs));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200u);
  EXPECT_EQ(reply->content_type, "application/json");
  EXPECT_EQ(reply->body, R"({"y":[0.5,1.5]})");
}

TEST(PredictResponseTest, DeclaredOutputNestedByShape) {
  std::vector<Tensor> outputs;
  outputs.push_back(Output("m", DataType::kInt32, {2, 2}, Le<int32_t>({1, 2, 3, -4})));
  auto reply = EncodeDeclared(std::move(outputs), 0);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->body, R"({"m":[[1,2],[3,-4]]})");
}

TEST(PredictResponseTest, BatchedOutputNestedByShape) {
  std::vector<Tensor> outputs;
  outputs.push_back(Output("m", DataType::kInt64, {1, 2, 3}, Le<int64_t>({1, 2, 3, 4, 5, 6})));
  auto reply = EncodeDeclared(std::move(outputs));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->body, R"({"m":[[1,2,3],[4,5,6]]})");
}

TEST(PredictResponseTest, UnbatchedModelKeepsALeadingOne) {
  std::vector<Tensor> outputs;
  outputs.push_back(Output("y", DataType::kFp32, {1, 2}, Le<float>({0.5f, 1.5f})));
  auto reply = EncodeDeclared(std::move(outputs), 0);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->body, R"({"y":[[0.5,1.5]]})");
}

TEST(PredictResponseTest, OneValueOutputIsAScalar) {
  std::vector<Tensor> outputs;
  outputs.push_back(Output("y", DataType::kFp32, {1}, Le<float>({0.25f})));
  outputs.push_back(Output("ok", DataType::kBool, {}, Le<uint8_t>({1})));
  auto reply = EncodeDeclared(std::move(outputs));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->body, R"({"y":0.25,"ok":true})");
}

TEST(PredictResponseTest, BytesOutputAsStringsInOrder) {
  std::vector<Tensor> outputs;
  outputs.push_back(
      Output("s", DataType::kBytes, {1, 3}, BytesElements({"hi", "caf\xc3\xa9", "a\"b\n"})));
  outputs.push_back(Output("y", DataType::kFp32, {1, 2}, Le<float>({-1.0f, 2.0f})));
  auto reply = EncodeDeclared(std::move(outputs));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->body, "{\"s\":[\"hi\",\"caf\xc3\xa9\",\"a\\\"b\\n\"],\"y\":[-1,2]}");
}

TEST(PredictResponseTest, EmptyOutput) {
  std::vector<Tensor> outputs;
  outputs.push_back(Output("y", DataType::kFp32, {1, 0}, {}));
  auto reply = EncodeDeclared(std::move(outputs));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->body, R"({"y":[]})");
}

TEST(PredictResponseTest, NonUtf8BytesOutputIsInternal) {
  std::vector<Tensor> outputs;
  outputs.push_back(Output("s", DataType::kBytes, {1, 2}, BytesElements({"ok", "\xff\xfe"})));
  auto reply = EncodeDeclared(std::move(outputs));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kInternal);
  EXPECT_THAT(reply.status().message(), HasSubstr("UTF-8"));
}

TEST(PredictResponseTest, OutputThatDoesNotMatchItsShapeIsInternal) {
  std::vector<Tensor> outputs;
  outputs.push_back(Output("y", DataType::kFp32, {1, 3}, Le<float>({0.5f, 1.5f})));
  auto reply = EncodeDeclared(std::move(outputs));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kInternal);
}

TEST(PredictResponseTest, LargeIntegersAndFloatsKeepTheirValues) {
  std::vector<Tensor> outputs;
  outputs.push_back(Output(
      "i", DataType::kInt64, {1, 2},
      Le<int64_t>({std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()})));
  outputs.push_back(
      Output("u", DataType::kUint64, {1, 1}, Le<uint64_t>({std::numeric_limits<uint64_t>::max()})));
  outputs.push_back(Output("f", DataType::kFp32, {1, 2}, Le<float>({0.1f, 1e-45f})));
  auto reply = EncodeDeclared(std::move(outputs));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->body,
            R"({"i":[9223372036854775807,-9223372036854775808],"u":[18446744073709551615],)"
            R"("f":[0.1,1e-45]})");
}

TEST(PredictResponseTest, Fp16OutputHasNoJsonAnswer) {
  std::vector<Tensor> outputs;
  outputs.push_back(Output("h", DataType::kFp16, {1, 1}, Le<uint16_t>({0x3c00})));
  auto reply = EncodeDeclared(std::move(outputs));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kInternal);
}

// A valid model output is not a malformed answer: NaN and infinities are written as /infer
// writes them (the answer used to be re-parsed as JSON, which refused them).
TEST(PredictResponseTest, NanAndInfinityOutputsAreAnswered) {
  std::vector<Tensor> outputs;
  outputs.push_back(Output("y", DataType::kFp32, {1, 3},
                           Le<float>({std::numeric_limits<float>::quiet_NaN(), 1.0f,
                                      -std::numeric_limits<float>::infinity()})));
  auto reply = EncodeDeclared(std::move(outputs));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->body, R"({"y":[NaN,1,-Infinity]})");
}

}  // namespace
}  // namespace switchyard::http
