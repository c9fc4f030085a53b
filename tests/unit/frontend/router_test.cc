// The HTTP router over a real in-process server (a sim add_sub model): which handler each route
// family reaches (health, server and model metadata, infer, predict, statistics, status,
// metrics, the repository and shared-memory APIs, the dashboard), 404 for unknown routes and
// models, 405 with the right Allow header for a wrong method, and the admin token and loopback
// rules of the management routes.
#include "frontend/http/router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "frontend/http/shared_memory_registry.h"
#include "switchyard/server.h"
#include "testing/sim_models.h"

namespace switchyard::http {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kInferBody =
    R"({"inputs":[{"name":"INPUT0","datatype":"INT32","shape":[1,4],"data":[1,2,3,4]},)"
    R"({"name":"INPUT1","datatype":"INT32","shape":[1,4],"data":[10,20,30,40]}]})";

constexpr const char* kToken = "s3cret-token";

HttpRequest Request(Method method, std::string target, std::string body = "") {
  HttpRequest request;
  request.method = method;
  request.target = std::move(target);
  request.body = std::move(body);
  return request;
}

HttpRequest Get(std::string target) { return Request(Method::kGet, std::move(target)); }
HttpRequest Post(std::string target, std::string body = "") {
  return Request(Method::kPost, std::move(target), std::move(body));
}

// The value of header `name` of `reply`, if it has one.
std::optional<std::string> Header(const HttpReply& reply, std::string_view name) {
  for (const auto& [key, value] : reply.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

// The integers of the JSON array at `pointer` in `json`.
std::vector<int64_t> IntsAt(const std::string& json, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << json;
    return {};
  }
  simdjson::dom::array array;
  if (doc.at_pointer(pointer).get(array) != simdjson::SUCCESS) {
    ADD_FAILURE() << "no array at " << pointer << " in " << json;
    return {};
  }
  std::vector<int64_t> values;
  for (simdjson::dom::element element : array) {
    int64_t value = 0;
    if (element.get_int64().get(value) != simdjson::SUCCESS) ADD_FAILURE() << "not an integer";
    values.push_back(value);
  }
  return values;
}

// The string at `pointer` in `json` ("" and a failure if there is none).
std::string StringAt(const std::string& json, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view value;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS ||
      doc.at_pointer(pointer).get(value) != simdjson::SUCCESS) {
    ADD_FAILURE() << "no string at " << pointer << " in " << json;
    return "";
  }
  return std::string(value);
}

class RouterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(fs::temp_directory_path() /
                         ("switchyard_router_test_" + std::to_string(::getpid())));
    fs::remove_all(*root_);
    fs::create_directories(*root_ / "simple" / "1");
    std::ofstream(*root_ / "simple" / "config.yaml")
        << testing::kAddSubConfig << testing::kInProcess;
    ServerOptions options;
    options.model_repository = root_->string();
    options.simulate_gpus = "";  // no GPUs: the model runs on the CPU, whatever the machine has
    auto server = Server::Create(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    if (root_ != nullptr) fs::remove_all(*root_);
    delete root_;
    root_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }

  // Routes `request` through `router` and returns its reply, waiting for it a bounded time (an
  // infer or repository call is answered on another thread).
  static HttpReply Call(const Router& router, HttpRequest request) {
    auto promise = std::make_shared<std::promise<HttpReply>>();
    std::future<HttpReply> future = promise->get_future();
    // set_value throws if the router answered twice.
    router.Handle(std::move(request),
                  [promise](HttpReply reply) { promise->set_value(std::move(reply)); });
    if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      ADD_FAILURE() << "the router never answered";
      HttpReply none;
      none.status = 0;
      return none;
    }
    return future.get();
  }

  HttpReply Call(HttpRequest request) { return Call(router_, std::move(request)); }

  static fs::path* root_;
  static Server* server_;
  Router router_{server_};
};

fs::path* RouterTest::root_ = nullptr;
Server* RouterTest::server_ = nullptr;

// Health and metadata

TEST_F(RouterTest, HealthRoutesAnswer200WhenTheServerIsLiveAndReady) {
  for (const char* target : {"/v2/health/live", "/v2/health/ready"}) {
    HttpReply reply = Call(Get(target));
    EXPECT_EQ(reply.status, 200u) << target;
    EXPECT_EQ(reply.content_type, "text/plain") << target;
    EXPECT_EQ(reply.body, "") << target;
  }
}

TEST_F(RouterTest, HeadIsAnsweredLikeGet) {
  HttpReply reply = Call(Request(Method::kHead, "/v2/health/ready"));
  EXPECT_EQ(reply.status, 200u);
}

TEST_F(RouterTest, TheQueryStringDoesNotChangeTheRoute) {
  EXPECT_EQ(Call(Get("/v2/health/live?verbose=1&x=y")).status, 200u);
  HttpReply missing = Call(Get("/v2/nothing?x=1"));
  EXPECT_EQ(missing.status, 404u);
  EXPECT_THAT(missing.body, HasSubstr("no route for '/v2/nothing'"));
}

TEST_F(RouterTest, ServerMetadataNamesTheServerAndItsExtensions) {
  for (const char* target : {"/v2", "/v2/"}) {
    HttpReply reply = Call(Get(target));
    EXPECT_EQ(reply.status, 200u) << target;
    EXPECT_EQ(reply.content_type, "application/json") << target;
    EXPECT_EQ(StringAt(reply.body, "/name"), "switchyard") << target;
    EXPECT_THAT(reply.body, Not(HasSubstr("system_shared_memory"))) << target;
  }
  SharedMemoryRegistry registry;
  Router with_shared_memory(server_, {}, &registry);
  EXPECT_THAT(Call(with_shared_memory, Get("/v2")).body, HasSubstr("\"system_shared_memory\""));
}

TEST_F(RouterTest, ModelMetadataReadinessAndConfigOfAKnownModel) {
  for (const char* target : {"/v2/models/simple", "/v2/models/simple/versions/1"}) {
    HttpReply metadata = Call(Get(target));
    ASSERT_EQ(metadata.status, 200u) << target << ": " << metadata.body;
    EXPECT_EQ(StringAt(metadata.body, "/name"), "simple") << target;
    EXPECT_EQ(StringAt(metadata.body, "/inputs/0/name"), "INPUT0") << target;
    EXPECT_EQ(StringAt(metadata.body, "/outputs/1/name"), "OUTPUT1") << target;
  }
  HttpReply ready = Call(Get("/v2/models/simple/ready"));
  EXPECT_EQ(ready.status, 200u);
  EXPECT_EQ(Call(Get("/v2/models/simple/versions/1/ready")).status, 200u);
  HttpReply config = Call(Get("/v2/models/simple/config"));
  ASSERT_EQ(config.status, 200u) << config.body;
  EXPECT_EQ(StringAt(config.body, "/name"), "simple");
  EXPECT_EQ(StringAt(config.body, "/backend"), "sim");
}

TEST_F(RouterTest, StatisticsOfAllModelsAndOfOne) {
  HttpReply all = Call(Get("/v2/models/stats"));
  ASSERT_EQ(all.status, 200u);
  EXPECT_EQ(StringAt(all.body, "/model_stats/0/name"), "simple");
  HttpReply one = Call(Get("/v2/models/simple/stats"));
  ASSERT_EQ(one.status, 200u);
  EXPECT_EQ(StringAt(one.body, "/model_stats/0/name"), "simple");
}

TEST_F(RouterTest, AVersionThatIsNotAPositiveIntegerIsABadRequest) {
  for (const char* target : {"/v2/models/simple/versions/0/ready", "/v2/models/simple/versions/one",
                             "/v2/models/simple/versions/-1"}) {
    HttpReply reply = Call(Get(target));
    EXPECT_EQ(reply.status, 400u) << target;
    EXPECT_THAT(reply.body, HasSubstr("is not a positive integer")) << target;
  }
}

// Unknown models and routes

TEST_F(RouterTest, AnUnknownModelIsNotFoundOnEveryModelRoute) {
  const std::vector<HttpRequest> requests = [] {
    std::vector<HttpRequest> r;
    r.push_back(Get("/v2/models/nope"));
    r.push_back(Get("/v2/models/nope/ready"));
    r.push_back(Get("/v2/models/nope/config"));
    r.push_back(Get("/v2/models/nope/stats"));
    r.push_back(Post("/v2/models/nope/infer", kInferBody));
    r.push_back(Post("/v2/models/nope/predict", R"({"INPUT0":[1,2,3,4]})"));
    return r;
  }();
  for (const HttpRequest& request : requests) {
    HttpRequest copy = Request(request.method, request.target, std::string(request.body.view()));
    HttpReply reply = Call(std::move(copy));
    EXPECT_EQ(reply.status, 404u) << request.target << ": " << reply.body;
    EXPECT_THAT(reply.body, HasSubstr("nope")) << request.target;
  }
}

TEST_F(RouterTest, AnUnknownVersionOfAKnownModelIsNotFound) {
  HttpReply reply = Call(Get("/v2/models/simple/versions/9"));
  EXPECT_EQ(reply.status, 404u) << reply.body;
}

TEST_F(RouterTest, UnknownPathsHaveNoRoute) {
  for (const char* target :
       {"/v3", "/v2/health", "/v2/health/alive", "/metricsx", "/index.htm", "/v2/models/",
        "/v2/models/simple/bogus", "/v2/models/simple/infer/extra", "/v2/repository"}) {
    HttpReply reply = Call(Get(target));
    EXPECT_EQ(reply.status, 404u) << target;
    EXPECT_THAT(reply.body, HasSubstr("no route for")) << target;
  }
}

// Wrong methods

TEST_F(RouterTest, AWrongMethodIs405WithTheAllowedOne) {
  struct Case {
    Method method;
    const char* target;
    const char* allow;
  };
  const Case cases[] = {
      {Method::kPost, "/v2/health/live", "GET"},
      {Method::kPost, "/v2/health/ready", "GET"},
      {Method::kPost, "/v2", "GET"},
      {Method::kPost, "/v2/models/stats", "GET"},
      {Method::kPost, "/v2/models/simple", "GET"},
      {Method::kPost, "/v2/models/simple/ready", "GET"},
      {Method::kPost, "/v2/models/simple/config", "GET"},
      {Method::kPost, "/v2/models/simple/stats", "GET"},
      {Method::kGet, "/v2/models/simple/infer", "POST"},
      {Method::kHead, "/v2/models/simple/infer", "POST"},
      {Method::kGet, "/v2/models/simple/predict", "POST"},
      {Method::kGet, "/v2/repository/index", "POST"},
      {Method::kGet, "/v2/repository/models/simple/load", "POST"},
      {Method::kPost, "/v2/status", "GET"},
      {Method::kPost, "/v2/devices", "GET"},
      {Method::kPost, "/metrics", "GET"},
      {Method::kPost, "/", "GET"},
      {Method::kOther, "/index.html", "GET"},
  };
  for (const Case& c : cases) {
    HttpReply reply = Call(Request(c.method, c.target));
    EXPECT_EQ(reply.status, 405u) << c.target;
    EXPECT_EQ(Header(reply, "Allow"), c.allow) << c.target;
    EXPECT_THAT(reply.body, HasSubstr(std::string("use ") + c.allow)) << c.target;
  }
}

// Inference

TEST_F(RouterTest, InferRunsTheModelAndAnswersItsOutputs) {
  HttpReply reply = Call(Post("/v2/models/simple/infer", kInferBody));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(reply.content_type, "application/json");
  // Outputs are answered in the config's order: OUTPUT0 = a + b, OUTPUT1 = a - b.
  std::string body = reply.body;  // the JSON answer has no binary tail
  EXPECT_TRUE(reply.body_tail.empty());
  EXPECT_EQ(StringAt(body, "/model_name"), "simple");
  EXPECT_EQ(StringAt(body, "/outputs/0/name"), "OUTPUT0");
  EXPECT_EQ(IntsAt(body, "/outputs/0/data"), (std::vector<int64_t>{11, 22, 33, 44}));
  EXPECT_EQ(StringAt(body, "/outputs/1/name"), "OUTPUT1");
  EXPECT_EQ(IntsAt(body, "/outputs/1/data"), (std::vector<int64_t>{-9, -18, -27, -36}));
}

TEST_F(RouterTest, InferOfAVersionedModelRoute) {
  HttpReply reply = Call(Post("/v2/models/simple/versions/1/infer", kInferBody));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(IntsAt(reply.body, "/outputs/0/data"), (std::vector<int64_t>{11, 22, 33, 44}));
}

TEST_F(RouterTest, InferRefusesABadInferenceHeaderLength) {
  HttpRequest request = Post("/v2/models/simple/infer", kInferBody);
  request.inference_header_length = "12abc";
  HttpReply reply = Call(std::move(request));
  EXPECT_EQ(reply.status, 400u);
  EXPECT_THAT(reply.body, HasSubstr("Inference-Header-Content-Length"));
}

TEST_F(RouterTest, InferRefusesABodyThatIsNotAnInferRequest) {
  HttpReply reply = Call(Post("/v2/models/simple/infer", "{\"inputs\": 5}"));
  EXPECT_EQ(reply.status, 400u) << reply.body;
}

TEST_F(RouterTest, PredictTakesAndAnswersPlainJson) {
  HttpRequest request =
      Post("/v2/models/simple/predict", R"({"INPUT0":[1,2,3,4],"INPUT1":[1,1,1,1]})");
  request.content_type = "application/json";
  HttpReply reply = Call(std::move(request));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(IntsAt(reply.body, "/OUTPUT0"), (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(IntsAt(reply.body, "/OUTPUT1"), (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST_F(RouterTest, NoSharedBodyForAModelWhoseInstancesRunInProcess) {
  EXPECT_FALSE(router_.NewSharedBody("/v2/models/simple/infer", 1 << 20, 0).has_value());
  EXPECT_FALSE(router_.NewSharedBody("/v2/models/nope/infer", 1 << 20, 0).has_value());
  EXPECT_FALSE(router_.NewSharedBody("/v2/health/live", 1 << 20, 0).has_value());
}

// Status, metrics, dashboard

TEST_F(RouterTest, StatusAndDevicesAreJson) {
  for (const char* target : {"/v2/status", "/v2/devices"}) {
    HttpReply reply = Call(Get(target));
    EXPECT_EQ(reply.status, 200u) << target;
    EXPECT_EQ(reply.content_type, "application/json") << target;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(reply.body).get(doc), simdjson::SUCCESS) << target << ": " << reply.body;
  }
  EXPECT_THAT(Call(Get("/v2/status")).body, HasSubstr("\"simple\""));
}

TEST_F(RouterTest, MetricsArePrometheusText) {
  HttpReply reply = Call(Get("/metrics"));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.content_type, "text/plain; version=0.0.4");
  EXPECT_THAT(reply.body, HasSubstr("# TYPE switchyard_requests_total counter"));
  EXPECT_THAT(reply.body,
              Not(HasSubstr("switchyard_shared_memory_regions")));  // the extension is off
}

TEST_F(RouterTest, MetricsIncludeTheSharedMemoryRegistrysWhenItIsOn) {
  SharedMemoryRegistry registry;
  Router router(server_, {}, &registry);
  HttpReply reply = Call(router, Get("/metrics"));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_THAT(reply.body, HasSubstr(registry.MetricsText()));
  EXPECT_FALSE(registry.MetricsText().empty());
}

TEST_F(RouterTest, TheDashboardIsServedAtTheRoot) {
  for (const char* target : {"/", "/index.html"}) {
    HttpReply reply = Call(Get(target));
    EXPECT_EQ(reply.status, 200u) << target;
    EXPECT_EQ(reply.content_type, "text/html; charset=utf-8") << target;
    EXPECT_THAT(reply.body, HasSubstr("<html")) << target;
  }
}

// The repository API

TEST_F(RouterTest, TheRepositoryIndexListsTheModels) {
  HttpReply all = Call(Post("/v2/repository/index"));
  ASSERT_EQ(all.status, 200u) << all.body;
  EXPECT_EQ(StringAt(all.body, "/0/name"), "simple");
  EXPECT_EQ(StringAt(all.body, "/0/state"), "READY");
  HttpReply ready = Call(Post("/v2/repository/index", R"({"ready": true})"));
  ASSERT_EQ(ready.status, 200u) << ready.body;
  EXPECT_EQ(StringAt(ready.body, "/0/name"), "simple");
}

TEST_F(RouterTest, TheRepositoryIndexRefusesABadBody) {
  HttpReply not_object = Call(Post("/v2/repository/index", "[1]"));
  EXPECT_EQ(not_object.status, 400u);
  EXPECT_THAT(not_object.body, HasSubstr("must be a JSON object"));
  HttpReply bad_ready = Call(Post("/v2/repository/index", R"({"ready": "yes"})"));
  EXPECT_EQ(bad_ready.status, 400u);
  EXPECT_THAT(bad_ready.body, HasSubstr("'ready' must be a boolean"));
}

TEST_F(RouterTest, RepositoryCallsReachTheServer) {
  HttpReply reload = Call(Post("/v2/repository/models/simple/load"));
  EXPECT_EQ(reload.status, 200u) << reload.body;
  EXPECT_EQ(reload.body, "{}");
  HttpReply unknown = Call(Post("/v2/repository/models/nope/unload"));
  EXPECT_EQ(unknown.status, 404u) << unknown.body;
  HttpReply bad_action = Call(Post("/v2/repository/models/simple/frobnicate"));
  EXPECT_EQ(bad_action.status, 404u);
  EXPECT_THAT(bad_action.body, HasSubstr("{model}/load or {model}/unload"));
}

// Shared memory

TEST_F(RouterTest, SharedMemoryCallsAreRefusedWhenTheExtensionIsOff) {
  HttpReply reply = Call(Get("/v2/systemsharedmemory/status"));
  EXPECT_EQ(reply.status, 403u);
  EXPECT_THAT(reply.body, HasSubstr("--allow-shared-memory"));
}

TEST_F(RouterTest, SharedMemoryCallsReachTheRegistryWhenItIsOn) {
  SharedMemoryRegistry registry;
  Router router(server_, {}, &registry);
  HttpReply status = Call(router, Get("/v2/systemsharedmemory/status"));
  EXPECT_EQ(status.status, 200u);
  EXPECT_EQ(status.body, "[]");
  HttpReply wrong_method = Call(router, Post("/v2/systemsharedmemory/status"));
  EXPECT_EQ(wrong_method.status, 405u);
  EXPECT_EQ(Header(wrong_method, "Allow"), "GET");
  HttpReply unregister = Call(router, Post("/v2/systemsharedmemory/unregister"));
  EXPECT_EQ(unregister.status, 200u);
  EXPECT_EQ(unregister.body, "{}");
}

// The admin token and the loopback rule

TEST_F(RouterTest, WithoutATokenManagementCallsAreOpenOnlyToThisMachine) {
  SharedMemoryRegistry registry;
  Router router(server_, {}, &registry);
  std::vector<HttpRequest> calls;
  calls.push_back(Post("/v2/repository/models/simple/load"));
  calls.push_back(Get("/v2/systemsharedmemory/status"));
  for (HttpRequest& call : calls) {
    const std::string target = call.target;
    call.peer_loopback = false;
    HttpReply remote = Call(router, std::move(call));
    EXPECT_EQ(remote.status, 403u) << target;
    EXPECT_THAT(remote.body, HasSubstr("--admin-token")) << target;
  }
  // From this machine the same calls go through.
  EXPECT_EQ(Call(router, Post("/v2/repository/models/simple/load")).status, 200u);
  EXPECT_EQ(Call(router, Get("/v2/systemsharedmemory/status")).status, 200u);
}

TEST_F(RouterTest, WithATokenManagementCallsNeedIt) {
  SharedMemoryRegistry registry;
  Router router(server_, RepositoryOptions{.admin_token = kToken}, &registry);
  const std::vector<std::pair<Method, std::string>> calls = {
      {Method::kPost, "/v2/repository/models/simple/load"},
      {Method::kPost, "/v2/repository/models/nope/unload"},
      {Method::kGet, "/v2/systemsharedmemory/status"},
      {Method::kPost, "/v2/systemsharedmemory/unregister"},
  };
  for (const auto& [method, target] : calls) {
    for (std::optional<std::string> authorization :
         {std::optional<std::string>(), std::optional<std::string>("Bearer wrong-token"),
          std::optional<std::string>(kToken)}) {  // the token without "Bearer "
      for (bool loopback : {true, false}) {       // on this machine too
        HttpRequest request = Request(method, target);
        request.authorization = authorization;
        request.peer_loopback = loopback;
        HttpReply refused = Call(router, std::move(request));
        EXPECT_EQ(refused.status, 401u) << target << " " << authorization.value_or("(none)");
        EXPECT_EQ(Header(refused, "WWW-Authenticate"), "Bearer") << target;
      }
    }
    HttpRequest request = Request(method, target);
    request.authorization = std::string("Bearer ") + kToken;
    request.peer_loopback = false;  // the token counts wherever the client is
    HttpReply allowed = Call(router, std::move(request));
    EXPECT_NE(allowed.status, 401u) << target;
    EXPECT_NE(allowed.status, 403u) << target;
  }
  // The token lets the reload through to the server.
  HttpRequest reload = Post("/v2/repository/models/simple/load");
  reload.authorization = std::string("Bearer ") + kToken;
  EXPECT_EQ(Call(router, std::move(reload)).status, 200u);
}

TEST_F(RouterTest, InferenceAndHealthNeedNoToken) {
  Router router(server_, RepositoryOptions{.admin_token = kToken});
  HttpRequest health = Get("/v2/health/ready");
  health.peer_loopback = false;
  EXPECT_EQ(Call(router, std::move(health)).status, 200u);
  HttpRequest infer = Post("/v2/models/simple/infer", kInferBody);
  infer.peer_loopback = false;
  HttpReply reply = Call(router, std::move(infer));
  EXPECT_EQ(reply.status, 200u) << reply.body;
}

}  // namespace
}  // namespace switchyard::http
