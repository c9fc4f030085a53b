// The gRPC clients of `switchyard bench` against an in-process gRPC server that answers every
// other request with an error: what is counted as success and as error, with which text.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "bench/grpc_transport.h"
#include "grpc_service.grpc.pb.h"

namespace switchyard::bench {
namespace {

// ModelInfer: every other call fails RESOURCE_EXHAUSTED "queue full". ModelStreamInfer: every
// other response carries error_message "model failed". ModelMetadata: one INT32 [-1, 4] input.
class AlternatingService final : public inference::GRPCInferenceService::CallbackService {
 public:
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (request->raw_input_contents_size() != 1 || calls_.fetch_add(1) % 2 == 1) {
      reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full"));
    } else {
      response->set_model_name(request->model_name());
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

  grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
  ModelStreamInfer(grpc::CallbackServerContext*) override {
    return new Stream(&calls_);
  }

  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override {
    response->set_name(request->name());
    auto* input = response->add_inputs();
    input->set_name("x");
    input->set_datatype("INT32");
    input->add_shape(-1);
    input->add_shape(4);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  class Stream final : public grpc::ServerBidiReactor<inference::ModelInferRequest,
                                                      inference::ModelStreamInferResponse> {
   public:
    explicit Stream(std::atomic<int64_t>* calls) : calls_(calls) { StartRead(&request_); }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);
        return;
      }
      response_.Clear();
      if (calls_->fetch_add(1) % 2 == 1) response_.set_error_message("model failed");
      StartWrite(&response_);
    }
    void OnWriteDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::CANCELLED);
        return;
      }
      StartRead(&request_);
    }
    void OnDone() override { delete this; }

   private:
    std::atomic<int64_t>* const calls_;
    inference::ModelInferRequest request_;
    inference::ModelStreamInferResponse response_;
  };

  std::atomic<int64_t> calls_{0};
};

class GrpcPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  GrpcPoolConfig Config(GrpcMode mode) const {
    GrpcPoolConfig config;
    config.address = "127.0.0.1:" + std::to_string(port_);
    config.model = "m";
    config.mode = mode;
    config.inputs = {{"x", DataType::kInt32, {1, 4}}};
    config.clients = 4;
    config.channels = 2;
    config.threads = 2;
    config.arrivals = ClosedLoop::Factory();
    return config;
  }

  // Runs the pool until `answers` requests are answered (or 30 s), stops it, returns its counts.
  static WindowCounters RunUntil(LoadPool& pool, uint64_t answers) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (pool.Totals().answered < answers && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pool.Stop();
    return pool.TakeWindow();
  }

  AlternatingService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(GrpcPoolTest, UnaryCountsSuccessesAndErrorsByCodeWithTheirMessage) {
  auto pool = StartGrpcPool(Config(GrpcMode::kUnary));
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  WindowCounters counters = RunUntil(**pool, 200);
  EXPECT_GE(counters.successes + counters.errors(), 200u);
  ASSERT_EQ(counters.http_errors.size(), 1u);
  uint64_t refused = counters.http_errors[8];  // RESOURCE_EXHAUSTED
  // Alternating answers, up to one per client in flight when counting stopped.
  EXPECT_LE(
      counters.successes > refused ? counters.successes - refused : refused - counters.successes,
      4u);
  EXPECT_EQ(counters.first_error_message[8], "queue full");
  EXPECT_EQ(counters.connection_errors, 0u);
  EXPECT_EQ(counters.items, counters.successes);
  EXPECT_EQ(counters.latency_ns.count(), counters.successes);
  EXPECT_EQ(counters.service_ns_by_status[0].count(), counters.successes);
  EXPECT_EQ(counters.sent, counters.successes + refused);  // every request sent was answered
  EXPECT_EQ((*pool)->InFlight(), 0);
}

TEST_F(GrpcPoolTest, StreamCountsErrorMessagesInTheStream) {
  auto pool = StartGrpcPool(Config(GrpcMode::kStream));
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  WindowCounters counters = RunUntil(**pool, 200);
  EXPECT_GE(counters.successes, 90u);
  ASSERT_EQ(counters.http_errors.size(), 1u);
  EXPECT_GE(counters.http_errors[kGrpcStreamError], 90u);
  EXPECT_EQ(counters.first_error_message[kGrpcStreamError], "model failed");
  EXPECT_EQ(counters.sent, counters.successes + counters.http_errors[kGrpcStreamError]);
}

TEST_F(GrpcPoolTest, AStoppedServerIsCountedUnavailable) {
  GrpcPoolConfig config = Config(GrpcMode::kStream);
  server_->Shutdown();
  server_.reset();
  auto pool = StartGrpcPool(std::move(config));
  ASSERT_TRUE(pool.ok());
  WindowCounters counters = RunUntil(**pool, 8);
  EXPECT_EQ(counters.successes, 0u);
  EXPECT_GE(counters.http_errors[14], 8u);  // UNAVAILABLE
  EXPECT_FALSE(counters.first_error_message[14].empty());
}

TEST_F(GrpcPoolTest, ControlCallsReadMetadataAndSayWhatIsMissing) {
  auto control = GrpcControl::Connect("127.0.0.1:" + std::to_string(port_));
  ASSERT_TRUE(control.ok());
  auto metadata = (*control)->Metadata("m");
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  ASSERT_EQ(metadata->inputs.size(), 1u);
  EXPECT_EQ(metadata->inputs[0].datatype, DataType::kInt32);
  EXPECT_EQ(metadata->inputs[0].shape, (Shape{-1, 4}));
  auto max_batch = (*control)->MaxBatchSize("m");  // not implemented by this server
  ASSERT_TRUE(max_batch.ok());
  EXPECT_FALSE(max_batch->has_value());
  EXPECT_EQ((*control)->Stats("m").status().code(), StatusCode::kUnavailable);
}

TEST(GrpcTransportTest, IsBuiltIn) { EXPECT_TRUE(GrpcBuiltIn()); }

}  // namespace
}  // namespace switchyard::bench
