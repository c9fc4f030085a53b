#pragma once
// The load generator over gRPC (`switchyard bench --protocol grpc`): the measured requests as
// GRPCInferenceService.ModelInfer calls (unary) or on ModelStreamInfer streams, and the control
// calls around them (model metadata and config, statistics).
//
// This header names no gRPC type, so that the bench library builds without gRPC++: with
// SWITCHYARD_WITH_GRPC=OFF, GrpcBuiltIn() is false and every function below answers
// Unimplemented ("built without gRPC"). With gRPC: grpc_pool.cc and grpc_control.cc.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/arrival.h"
#include "bench/bench_options.h"
#include "bench/load_pool.h"
#include "bench/model_metadata.h"
#include "bench/server_stats.h"
#include "switchyard/clock.h"
#include "switchyard/status.h"

namespace switchyard::bench {

// Whether this binary was built with gRPC++ (SWITCHYARD_WITH_GRPC).
bool GrpcBuiltIn();

struct GrpcPoolConfig {
  std::string address;  // "HOST:PORT"
  std::string model;
  GrpcMode mode = GrpcMode::kUnary;
  GrpcContents contents = GrpcContents::kRaw;
  std::vector<TensorMetadata> inputs;  // every shape concrete
  uint64_t seed = 1;                   // client i sends the data of seed + i
  int clients = 1;                     // calls (kUnary) or streams (kStream) in flight at most
  // HTTP/2 connections the clients share, client i on channel i % channels; 0: one per client.
  int channels = 0;
  int64_t items_per_request = 1;
  int threads = 1;  // client threads, each with its completion queue; capped at `clients`
  Duration poll{};  // each thread polls its queue this long after an event before it sleeps
  Duration request_timeout = std::chrono::seconds(60);  // kUnary: the call's deadline
  Duration stop_grace = std::chrono::seconds(1);        // Stop() waits this long for answers
  ArrivalFactory arrivals;                              // called once per client thread
};

// Starts the clients: `clients` sessions over `threads` threads, each thread with its own
// arrival process and LoadRecorder. A session sends its one prepared ModelInferRequest (built by
// BuildModelInferRequest from the config) whenever the arrival process says so: kUnary, a
// ModelInfer call with the request timeout as deadline; kStream, a write on its stream (opened
// at its first send, and again after it broke), whose next response is the answer. Answers are
// recorded by status (load_recorder.h): gRPC OK is a success; any other code is an error answer
// of that code with the call's message, as is a stream response with an error_message
// (kGrpcStreamError); a stream that ends before answering counts its status (UNKNOWN if it
// ended OK). After UNAVAILABLE or a broken stream a session waits 10 ms before it is idle again.
// InvalidArgument if the request cannot be built (typed contents of FP16/BF16).
// REQUIRES: config.clients >= 1, config.threads >= 1, config.arrivals set
StatusOr<std::unique_ptr<LoadPool>> StartGrpcPool(GrpcPoolConfig config);

// Blocking control calls on one channel, each with a deadline of kControlTimeout.
// Thread-safety: thread-safe.
class GrpcControl {
 public:
  // Makes the channel (connecting lazily). Unimplemented without gRPC.
  static StatusOr<std::unique_ptr<GrpcControl>> Connect(const std::string& address);
  virtual ~GrpcControl() = default;

  // ModelMetadata. Unavailable (naming the code and message) when the call fails;
  // InvalidArgument for an unknown datatype.
  virtual StatusOr<ModelMetadata> Metadata(const std::string& model) = 0;
  // max_batch_size from ModelConfig; nullopt when the server does not implement ModelConfig.
  virtual StatusOr<std::optional<int64_t>> MaxBatchSize(const std::string& model) = 0;
  // ModelStatistics summed over the entries named `model`. Unavailable when the call fails,
  // NotFound when no entry names the model.
  virtual StatusOr<StatsSnapshot> Stats(const std::string& model) = 0;
};

}  // namespace switchyard::bench
