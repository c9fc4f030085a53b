#pragma once
// Options of `switchyard bench` and the parsers for their string forms. Every field documents its
// default and unit; the CLI (bench_command.cc) fills them.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bench/arrival_schedule.h"
#include "switchyard/clock.h"
#include "switchyard/status.h"
#include "switchyard/tensor.h"

namespace switchyard::bench {

// How input tensors travel: JSON `data` arrays, the binary tensor data extension, or the system
// shared-memory extension (the inputs lie in a region the load generator registers; outputs
// come back binary).
enum class BodyFormat { kJson, kBinary, kSharedMemory };

// The protocol the measured requests use: HTTP/1.1 keep-alive (KServe v2 REST) or gRPC
// (GRPCInferenceService.ModelInfer over HTTP/2).
enum class Protocol { kHttp, kGrpc };

// gRPC: one unary ModelInfer call per request, or ModelStreamInfer with one stream per client
// and one request in flight on it at a time.
enum class GrpcMode { kUnary, kStream };

// gRPC: input tensors in `raw_input_contents` (one entry per input, little-endian, BYTES
// elements each a 4-byte length and its bytes) or in each input's typed `contents`.
enum class GrpcContents { kRaw, kTyped };

// How load is offered: closed loop (a fixed number of clients, each waiting for its answer
// before sending again), open loop at a request rate, or open loop replaying a schedule.
enum class LoadMode { kClosedLoop, kRate, kSchedule };

struct BenchOptions {
  Protocol protocol = Protocol::kHttp;
  // The server: http://HOST[:PORT] for kHttp; for kGrpc HOST:PORT or grpc://HOST:PORT (the CLI
  // defaults it to grpc://127.0.0.1:8001 then).
  std::string url = "http://127.0.0.1:8000";
  GrpcMode grpc_mode = GrpcMode::kUnary;            // kGrpc only
  GrpcContents grpc_contents = GrpcContents::kRaw;  // kGrpc only
  // kGrpc: HTTP/2 connections the clients share (client i on i % grpc_channels); 0: one each.
  int grpc_channels = 0;
  std::string model;  // required
  LoadMode mode = LoadMode::kClosedLoop;
  std::vector<int> concurrency = {1};  // kClosedLoop: clients per level, in order
  // kRate: requests/s per level, in order; arrivals kPoisson (seeded with `seed`) or kConstant.
  std::vector<double> request_rates;
  ArrivalKind arrival = ArrivalKind::kPoisson;
  // kSchedule: arrival offsets from the start of load, replayed once as one level.
  std::vector<Duration> schedule;
  int connections = 256;  // kRate, kSchedule: keep-alive connections available to send on
  int threads = 0;        // client threads; 0: number of cores
  // Client threads keep polling this long after each event before they sleep (0: they sleep at
  // once), so that a lone client's latency holds no wake-up of its own.
  Duration poll{};
  BodyFormat format = BodyFormat::kJson;  // kHttp only
  int64_t batch_size = 1;                 // replaces the -1 batch dimension of every input
  // Concrete dims (without the batch dimension) for inputs with other variable (-1) dims.
  std::map<std::string, Shape> shapes;
  uint64_t seed = 1;         // input data of client i comes from seed + i; Poisson arrivals
  double warmup_s = 2;       // per level, not measured
  int64_t window_ms = 5000;  // one measurement window
  double stability = 0.10;   // two consecutive windows agree when their req/s differ by
                             // at most this fraction of the larger one
  int max_windows = 6;       // per level; not stable after these: reported unstable
  std::string json_out;      // empty: no JSON file
};

// "N" (one level), "A,B,C" (a list, in order) or "A:B" (A, 2A, 4A, ... while below B, then B).
// Every value must be in [1, 65536]; InvalidArgument otherwise.
StatusOr<std::vector<int>> ParseConcurrency(std::string_view text);

struct ShapeOverride {
  std::string input;
  Shape dims;
};

// "R" or "R1,R2,..." (a list, in order): request rates in requests/s, each a finite number in
// (0, 10000000]. InvalidArgument otherwise.
StatusOr<std::vector<double>> ParseRequestRates(std::string_view text);

// "NAME:d1,d2,..." with dims >= 0; NAME may itself contain ':' (the last one separates).
StatusOr<ShapeOverride> ParseShapeOverride(std::string_view text);

// The gRPC target "HOST:PORT" of "grpc://HOST:PORT" or "HOST:PORT" (a trailing '/' allowed).
// InvalidArgument for anything else (another scheme, no port, a port not in [1, 65535]).
StatusOr<std::string> ParseGrpcAddress(std::string_view url);

// Checks ranges and combinations (FP16/BF16 need binary is checked later, against metadata).
Status ValidateOptions(const BenchOptions& options);

}  // namespace switchyard::bench
