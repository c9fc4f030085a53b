#include "frontend/http/router.h"

#include <algorithm>
#include <charconv>

#include "fmt/format.h"
#include "frontend/http/dashboard.h"
#include "frontend/http/event_stream.h"
#include "frontend/http/kserve_codec.h"
#include "frontend/http/kserve_json.h"
#include "frontend/http/load_report.h"
#include "frontend/http/predict_codec.h"
#include "frontend/http/status_json.h"
#include "simdjson.h"

namespace switchyard::http {
namespace {

HttpReply HealthReply(bool ok) {
  HttpReply reply;
  reply.status = ok ? 200 : 503;
  reply.body = ok ? "" : ErrorJson("not ready");
  if (ok) reply.content_type = "text/plain";
  return reply;
}

HttpReply NotFoundReply(std::string_view path) {
  return ErrorReply(NotFound(fmt::format("no route for '{}'", path)));
}

// Removes the leading "/segment" from `rest` and returns the segment.
std::string_view PopSegment(std::string_view& rest) {
  if (rest.empty() || rest.front() != '/') return {};
  rest.remove_prefix(1);
  std::size_t end = rest.find('/');
  std::string_view segment = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return segment;
}

// The content type and header of a KServe infer reply: a binary body says where its JSON ends.
void SetKServeHead(const EncodedBody& encoded, HttpReply* reply) {
  if (!encoded.json_length) return;
  reply->content_type = "application/octet-stream";
  reply->headers.emplace_back("Inference-Header-Content-Length",
                              std::to_string(*encoded.json_length));
}

// Takes a request's partial responses for `on_partial`, each encoded by `encode` as the route
// encodes its final answer (an encoding error becomes that response's error reply). Null when
// `on_partial` is: nobody takes them.
template <typename Encode>
std::shared_ptr<PartialResponses> PartialReplies(std::function<void(HttpReply)> on_partial,
                                                 Encode encode) {
  if (!on_partial) return nullptr;
  return std::make_shared<PartialResponses>(
      [on_partial = std::move(on_partial),
       encode = std::move(encode)](std::vector<Tensor> outputs) {
        InferResponse partial;
        partial.outputs = std::move(outputs);
        StatusOr<HttpReply> encoded = encode(partial);
        on_partial(encoded.ok() ? std::move(encoded).value() : ErrorReply(encoded.status()));
      });
}

StatusOr<int64_t> ParseVersion(std::string_view text) {
  int64_t version = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || ptr != text.data() + text.size() || version < 1) {
    return InvalidArgument(fmt::format("model version '{}' is not a positive integer", text));
  }
  return version;
}

}  // namespace

Router::Router(Server* server, RepositoryOptions repository, SharedMemoryRegistry* shared_memory)
    : server_(server),
      repository_(std::make_unique<RepositoryHandler>(server, repository)),
      shared_memory_(shared_memory),
      shared_memory_handler_(shared_memory, repository.admin_token),
      metadata_([shared_memory] {
        std::vector<std::string> extensions = Server::Extensions();
        if (shared_memory != nullptr) extensions.emplace_back("system_shared_memory");
        return ServerMetadataJson(Server::kName, Server::Version(), extensions);
      }()) {}

void Router::Handle(HttpRequest request, ReplyFn reply) const {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  if (path == "/v2/health/live") {
    if (Expect(Method::kGet, request, reply)) reply(HealthReply(server_->IsLive()));
  } else if (path == "/v2/health/ready") {
    if (Expect(Method::kGet, request, reply)) reply(HealthReply(server_->IsReady()));
  } else if (path == "/v2" || path == "/v2/") {
    if (Expect(Method::kGet, request, reply)) reply(JsonReply(metadata_));
  } else if (path == "/v2/models/stats") {
    if (Expect(Method::kGet, request, reply)) {
      reply(JsonReply(StatisticsJson(*server_->Statistics("", -1))));
    }
  } else if (path.starts_with("/v2/models/")) {
    HandleModel(std::move(request), path.substr(std::string_view("/v2/models").size()),
                std::move(reply));
  } else if (path == "/v2/jobs" || path.starts_with("/v2/jobs/")) {
    if (jobs_ == nullptr) return reply(NotFoundReply(request.target));
    jobs_->Handle(request, path.substr(std::string_view("/v2/jobs").size()), reply);
  } else if (path == "/v2/repository/index") {
    if (Expect(Method::kPost, request, reply)) HandleRepositoryIndex(request, reply);
  } else if (path.starts_with("/v2/repository/models/")) {
    repository_->Handle(request, path.substr(std::string_view("/v2/repository/models/").size()),
                        std::move(reply));
  } else if (path.starts_with("/v2/systemsharedmemory/")) {
    shared_memory_handler_.Handle(
        request, path.substr(std::string_view("/v2/systemsharedmemory").size()), reply);
  } else if (path == "/v2/status") {
    if (Expect(Method::kGet, request, reply))
      reply(JsonReply(ServerStatusJson(server_->GetStatus())));
  } else if (path == "/v2/devices") {
    if (Expect(Method::kGet, request, reply)) reply(JsonReply(DevicesJson(server_->GetStatus())));
  } else if (path == "/metrics") {
    if (Expect(Method::kGet, request, reply)) {
      HttpReply metrics;
      metrics.content_type = "text/plain; version=0.0.4";
      metrics.body = server_->MetricsText();
      if (shared_memory_ != nullptr) metrics.body += shared_memory_->MetricsText();
      if (jobs_ != nullptr) metrics.body += jobs_->MetricsText();
      reply(std::move(metrics));
    }
  } else if (path == "/" || path == "/index.html") {
    if (Expect(Method::kGet, request, reply)) {
      HttpReply page;
      page.content_type = "text/html; charset=utf-8";
      page.body = std::string(DashboardHtml());
      reply(std::move(page));
    }
  } else {
    reply(NotFoundReply(path));
  }
}

void Router::HandleRepositoryIndex(const HttpRequest& request, const ReplyFn& reply) const {
  // Body: optional {"repository_name"?: string, "ready"?: bool}; ready: true lists ready models.
  bool only_ready = false;
  if (!request.body.empty()) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(request.body.view()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
      return reply(ErrorReply(InvalidArgument("repository index: the body must be a JSON object")));
    }
    simdjson::dom::element ready;
    if (doc["ready"].get(ready) == simdjson::SUCCESS &&
        ready.get_bool().get(only_ready) != simdjson::SUCCESS) {
      return reply(ErrorReply(InvalidArgument("repository index: 'ready' must be a boolean")));
    }
  }
  std::vector<ModelInfo> models = server_->ListModels();
  if (only_ready) {
    std::erase_if(models, [](const ModelInfo& m) { return m.state != ModelState::kReady; });
  }
  reply(JsonReply(RepositoryIndexJson(models)));
}

std::optional<Router::SharedBody> Router::NewSharedBody(std::string_view target, std::size_t size,
                                                        std::size_t aligned_at) const {
  std::string_view path = target.substr(0, target.find('?'));
  constexpr std::string_view kModels = "/v2/models";
  if (!path.starts_with(kModels)) return std::nullopt;
  auto route = ParseModelRoute(path.substr(kModels.size()));
  if (!route.ok() || route->action != "infer") return std::nullopt;
  auto model = server_->Resolve(route->model, route->version);
  if (!model.ok()) return std::nullopt;
  auto body = (*model)->NewRequestBody(size, aligned_at);
  if (!body) return std::nullopt;
  return SharedBody{std::move(*body), std::move(model).value()};
}

StatusOr<Router::ModelRoute> Router::ParseModelRoute(std::string_view rest) {
  ModelRoute route;
  route.model = std::string(PopSegment(rest));
  if (rest.starts_with("/versions/")) {
    PopSegment(rest);
    ASSIGN_OR_RETURN(route.version, ParseVersion(PopSegment(rest)));
  }
  route.action = std::string(PopSegment(rest));
  if (route.model.empty() || !rest.empty()) return NotFound("no such route");
  return route;
}

void Router::HandleModel(HttpRequest request, std::string_view rest, ReplyFn reply) const {
  auto route = ParseModelRoute(rest);
  if (!route.ok()) {
    if (route.status().code() == StatusCode::kNotFound) {
      return reply(NotFoundReply(request.target));
    }
    return reply(ErrorReply(route.status()));
  }
  const std::string& model = route->model;
  const int64_t version = route->version;
  std::string_view action = route->action;
  if (action == "infer" || action == "predict" || action == "jobs") {
    if (!Expect(Method::kPost, request, reply)) return;
    if (request.model == nullptr) {
      auto resolved = server_->Resolve(model, version);
      if (!resolved.ok()) return reply(ErrorReply(resolved.status()));
      request.model = std::move(resolved).value();
    }
    if (request.load_report_format) {
      reply = WithLoadReport(*request.load_report_format, std::move(reply));
    }
    if (action == "jobs" ||
        (request.prefer && request.prefer->find("respond-async") != std::string::npos)) {
      return SubmitJob(std::move(request), *route, std::move(reply));
    }
    if (action == "infer") return HandleInfer(std::move(request), *route, std::move(reply));
    if (request.accept.find("text/event-stream") != std::string::npos) {
      EventStreamReply streamed = StreamAsEvents(std::move(reply), request.cancel);
      request.progress = std::move(streamed.progress);
      request.on_partial = std::move(streamed.on_partial);
      return HandlePredict(std::move(request), *route, std::move(streamed.reply));
    }
    return HandlePredict(std::move(request), *route, std::move(reply));
  }
  if (!Expect(Method::kGet, request, reply)) return;
  if (action == "stats") {
    auto stats = server_->Statistics(model, version);
    return reply(stats.ok() ? JsonReply(StatisticsJson(*stats)) : ErrorReply(stats.status()));
  }
  auto info = server_->GetModel(model, version);
  if (!info.ok()) return reply(ErrorReply(info.status()));
  if (action.empty()) return reply(JsonReply(ModelMetadataJson(*info)));
  if (action == "ready") return reply(HealthReply(info->state == ModelState::kReady));
  if (action == "config") return reply(JsonReply(ModelConfigJson(*info)));
  reply(NotFoundReply(request.target));
}

ReplyFn Router::WithLoadReport(std::string format, ReplyFn reply) const {
  return [this, format = std::move(format), reply = std::move(reply)](HttpReply answer) {
    if (auto report = LoadReport(format, server_->CurrentLoad())) {
      answer.headers.emplace_back(std::string(kLoadReportHeader), std::move(*report));
    }
    reply(std::move(answer));
  };
}

void Router::SubmitJob(HttpRequest request, const ModelRoute& route, ReplyFn reply) const {
  if (jobs_ == nullptr) return reply(NotFoundReply(request.target));
  std::string target = request.target;
  if (route.action == "jobs") {  // runs as /predict, or /infer for a KServe binary body
    const std::string_view run = request.inference_header_length ? "infer" : "predict";
    const std::size_t query = target.find('?');
    const std::size_t action_at = target.rfind("/jobs", query);
    target.replace(action_at + 1, 4, run);
  }
  jobs_->Submit(std::move(request), route.model, route.version, std::move(target), reply);
}

void Router::HandleInfer(HttpRequest request, const ModelRoute& route, ReplyFn reply) const {
  std::shared_ptr<const ModelHandle> model = std::move(request.model);
  std::optional<std::size_t> json_length;
  if (request.inference_header_length) {
    const std::string& text = *request.inference_header_length;
    std::size_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      return reply(ErrorReply(InvalidArgument(fmt::format(
          "Inference-Header-Content-Length: '{}' is not a non-negative integer", text))));
    }
    json_length = value;
  }
  auto decoded =
      DecodeInferRequest(std::move(request.body), json_length, *model->config(), shared_memory_);
  if (!decoded.ok()) return reply(ErrorReply(decoded.status()));
  std::unique_ptr<InferRequest> infer = std::move(decoded->request);
  infer->model_name = route.model;
  infer->model_version = route.version;
  infer->cancel = std::move(request.cancel);
  infer->progress = std::move(request.progress);
  OutputEncoding encoding = std::move(decoded->output_encoding);
  infer->partial = PartialReplies(std::move(request.on_partial),
                                  [encoding](const InferResponse& partial) -> StatusOr<HttpReply> {
                                    ASSIGN_OR_RETURN(EncodedBody encoded,
                                                     EncodeInferResponse(partial, encoding));
                                    HttpReply reply;
                                    reply.body = encoded.Flat();
                                    SetKServeHead(encoded, &reply);
                                    return reply;
                                  });
  server_->Infer(*model, std::move(infer),
                 [encoding = std::move(encoding), input_regions = std::move(decoded->input_regions),
                  reply = std::move(reply)](StatusOr<InferResponse> response) {
                   if (!response.ok()) return reply(ErrorReply(response.status()));
                   // Computed from zeros where an input's region was truncated under it: refused.
                   if (Status intact = CheckInputRegions(input_regions); !intact.ok()) {
                     return reply(ErrorReply(intact));
                   }
                   auto owner = std::make_shared<const InferResponse>(std::move(response).value());
                   auto encoded = EncodeInferResponse(*owner, encoding);
                   if (!encoded.ok()) return reply(ErrorReply(encoded.status()));
                   HttpReply ok;
                   // Binary outputs go to the client from where they lie (a worker's output memory,
                   // or the backend's own buffer), unless one is borrowed from memory the reply
                   // cannot keep alive.
                   if (std::all_of(owner->outputs.begin(), owner->outputs.end(),
                                   [](const Tensor& t) { return t.data.owned(); })) {
                     ok.body = std::move(encoded->body);
                     ok.body_tail = std::move(encoded->binary);
                     ok.tail_owner = std::move(owner);
                   } else {
                     ok.body = encoded->Flat();
                   }
                   SetKServeHead(*encoded, &ok);
                   reply(std::move(ok));
                 });
}

void Router::HandlePredict(HttpRequest request, const ModelRoute& route, ReplyFn reply) const {
  const ModelHandle& model = *request.model;
  auto decoded = DecodePredictRequest(request, *model.config());
  if (!decoded.ok()) return reply(ErrorReply(decoded.status()));
  std::unique_ptr<InferRequest> infer = std::move(decoded).value();
  infer->model_name = route.model;
  infer->model_version = route.version;
  infer->cancel = std::move(request.cancel);
  infer->progress = std::move(request.progress);
  infer->partial = PartialReplies(std::move(request.on_partial),
                                  [config = model.config()](const InferResponse& partial) {
                                    return EncodePredictResponse(partial, *config);
                                  });
  server_->Infer(
      model, std::move(infer),
      [config = model.config(), reply = std::move(reply)](StatusOr<InferResponse> response) {
        if (!response.ok()) return reply(ErrorReply(response.status()));
        auto encoded = EncodePredictResponse(*response, *config);
        reply(encoded.ok() ? std::move(encoded).value() : ErrorReply(encoded.status()));
      });
}

}  // namespace switchyard::http
