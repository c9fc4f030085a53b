#include "bench/bench_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include "bench/arrival.h"
#include "bench/arrival_schedule.h"
#include "bench/bench_options.h"
#include "bench/grpc_transport.h"
#include "bench/http_client.h"
#include "bench/instance_stats.h"
#include "bench/level_runner.h"
#include "bench/model_metadata.h"
#include "bench/open_loop.h"
#include "bench/report.h"
#include "bench/request_builder.h"
#include "bench/server_stats.h"
#include "bench/shared_memory_inputs.h"
#include "fmt/format.h"

namespace switchyard::bench {
namespace {

// Open loop: how long the end of a level waits for outstanding answers.
constexpr auto kOpenLoopStopGrace = std::chrono::seconds(10);
// A replayed schedule ends at most this long after its last arrival.
constexpr auto kReplayTail = std::chrono::seconds(60);

// The command line as typed, before parsing into BenchOptions.
struct RawOptions {
  std::string concurrency = "1";
  bool concurrency_given = false;
  std::string request_rate;
  std::string arrival = "poisson";
  std::string schedule_file;
  std::string format = "json";
  std::string protocol = "http";
  std::string grpc_mode = "unary";
  std::string grpc_contents = "raw";
  bool url_given = false;
  std::vector<std::string> shapes;
  int64_t poll_us = 0;
};

StatusOr<std::vector<Duration>> ReadSchedule(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return InvalidArgument(fmt::format("cannot read schedule file '{}'", path));
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  auto offsets = ParseSchedule(text);
  if (!offsets.ok()) {
    return InvalidArgument(fmt::format("{}: {}", path, offsets.status().message()));
  }
  return offsets;
}

Status FinishOptions(const RawOptions& raw, BenchOptions& options) {
  if (!raw.request_rate.empty() && !raw.schedule_file.empty()) {
    return InvalidArgument("--request-rate and --schedule exclude each other");
  }
  if (!raw.request_rate.empty()) {
    options.mode = LoadMode::kRate;
    ASSIGN_OR_RETURN(options.request_rates, ParseRequestRates(raw.request_rate));
    options.arrival = raw.arrival == "constant" ? ArrivalKind::kConstant : ArrivalKind::kPoisson;
  } else if (!raw.schedule_file.empty()) {
    options.mode = LoadMode::kSchedule;
    ASSIGN_OR_RETURN(options.schedule, ReadSchedule(raw.schedule_file));
  }
  if (options.mode != LoadMode::kClosedLoop && raw.concurrency_given) {
    fmt::print(stderr, "note: --concurrency is not used in open loop (see --connections)\n");
  }
  ASSIGN_OR_RETURN(options.concurrency, ParseConcurrency(raw.concurrency));
  options.protocol = raw.protocol == "grpc" ? Protocol::kGrpc : Protocol::kHttp;
  options.grpc_mode = raw.grpc_mode == "stream" ? GrpcMode::kStream : GrpcMode::kUnary;
  options.grpc_contents = raw.grpc_contents == "typed" ? GrpcContents::kTyped : GrpcContents::kRaw;
  if (options.protocol == Protocol::kGrpc && !raw.url_given) options.url = "grpc://127.0.0.1:8001";
  options.poll = std::chrono::microseconds(raw.poll_us);
  options.format = raw.format == "binary" ? BodyFormat::kBinary
                   : raw.format == "shm"  ? BodyFormat::kSharedMemory
                                          : BodyFormat::kJson;
  for (const std::string& text : raw.shapes) {
    ASSIGN_OR_RETURN(ShapeOverride shape, ParseShapeOverride(text));
    options.shapes[shape.input] = std::move(shape.dims);
  }
  if (options.threads == 0) {
    options.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }
  return ValidateOptions(options);
}

// The start of an error body on one line, for a message.
std::string Excerpt(std::string_view body) {
  constexpr std::size_t kMax = 200;
  std::string text;
  for (char c : body.substr(0, kMax)) {
    bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (!space) {
      text += c;
    } else if (!text.empty() && text.back() != ' ') {
      text += ' ';
    }
  }
  return body.size() > kMax ? text + "..." : text;
}

// GET `target` expecting 200.
StatusOr<std::string> GetDocument(const ServerAddress& address, const std::string& target) {
  ASSIGN_OR_RETURN(HttpReply reply, HttpGet(address, target, kControlTimeout));
  if (reply.status != 200) {
    return NotFound(
        fmt::format("GET {} answered {}: {}", target, reply.status, Excerpt(reply.body)));
  }
  return std::move(reply.body);
}

struct Failure {
  int exit_code;
  Status status;
};

// Reads metadata (and config, when offered) and plans the inputs.
StatusOr<InputPlan> PlanInputs(const BenchOptions& options, const ServerAddress& address) {
  std::string model_path = "/v2/models/" + options.model;
  ASSIGN_OR_RETURN(std::string metadata_json, GetDocument(address, model_path));
  ASSIGN_OR_RETURN(ModelMetadata metadata, ParseModelMetadata(metadata_json));
  bool batched = LooksBatched(metadata);
  if (auto config = GetDocument(address, model_path + "/config"); config.ok()) {
    ASSIGN_OR_RETURN(int64_t max_batch_size, ParseMaxBatchSize(*config));
    batched = max_batch_size > 0;
  }
  return ResolveInputs(metadata, batched, options.batch_size, options.shapes, options.format);
}

// The levels to run, with what distinguishes them filled in (label, connections, arrivals).
std::vector<LevelConfig> PlanLevels(const BenchOptions& options) {
  std::vector<LevelConfig> levels;
  switch (options.mode) {
    case LoadMode::kClosedLoop:
      for (int concurrency : options.concurrency) {
        LevelConfig level;
        level.label = fmt::format("concurrency {}", concurrency);
        level.concurrency = concurrency;
        level.arrivals = ClosedLoop::Factory();
        levels.push_back(std::move(level));
      }
      break;
    case LoadMode::kRate:
      for (double rate : options.request_rates) {
        LevelConfig level;
        level.label = fmt::format("rate {:g}/s", rate);
        level.concurrency = options.connections;
        level.offered_rps = rate;
        level.stop_grace = kOpenLoopStopGrace;
        level.arrivals = OpenLoop::Factory({options.arrival, rate, options.seed, {}});
        levels.push_back(std::move(level));
      }
      break;
    case LoadMode::kSchedule: {
      LevelConfig level;
      level.label = fmt::format("schedule of {}", options.schedule.size());
      level.concurrency = options.connections;
      double span_s = std::chrono::duration<double>(options.schedule.back()).count();
      level.offered_rps = span_s > 0 ? static_cast<double>(options.schedule.size()) / span_s : 0;
      level.replay = true;
      level.replay_limit = options.schedule.back() + kReplayTail;
      level.stop_grace = kOpenLoopStopGrace;
      level.arrivals = OpenLoop::Factory({ArrivalKind::kList, 0, 0, options.schedule});
      levels.push_back(std::move(level));
      break;
    }
  }
  return levels;
}

// What a run needs from the server before the levels, by protocol.
struct Prepared {
  InputPlan plan;
  std::function<std::optional<StatsSnapshot>()> read_stats;
  std::function<std::optional<std::vector<InstanceCounters>>()> read_instances;
  std::function<void(LevelConfig&)> configure;  // the protocol's part of every level
  std::unique_ptr<SharedMemoryInputs> shared_inputs;
  std::unique_ptr<GrpcControl> grpc;
};

int ExitCode(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument ||
                 status.code() == StatusCode::kUnimplemented
             ? 2
             : 1;
}

StatusOr<std::unique_ptr<Prepared>> PrepareHttp(const BenchOptions& options) {
  auto prepared = std::make_unique<Prepared>();
  ASSIGN_OR_RETURN(ServerAddress address, ParseUrl(options.url));
  ASSIGN_OR_RETURN(prepared->plan, PlanInputs(options, address));
  std::string stats_path = fmt::format("/v2/models/{}/stats", options.model);
  prepared->read_stats = [address, stats_path,
                          model = options.model]() -> std::optional<StatsSnapshot> {
    auto json = GetDocument(address, stats_path);
    if (!json.ok()) return std::nullopt;
    auto stats = ParseModelStats(*json, model);
    if (!stats.ok()) return std::nullopt;
    return *stats;
  };
  if (!prepared->read_stats()) {
    fmt::print(stderr, "note: no usable {} on this server: no server-side queue/compute split\n",
               stats_path);
  }
  prepared->read_instances =
      [address, model = options.model]() -> std::optional<std::vector<InstanceCounters>> {
    auto json = GetDocument(address, "/v2/status");
    if (!json.ok()) return std::nullopt;
    auto instances = ParseInstanceCounters(*json, model);
    if (!instances.ok()) return std::nullopt;
    return std::move(*instances);
  };
  if (options.format == BodyFormat::kSharedMemory) {
    const std::string region = fmt::format("switchyard-bench-{}", ::getpid());
    ASSIGN_OR_RETURN(prepared->shared_inputs,
                     SharedMemoryInputs::Create(
                         address, region,
                         BuildInferBody(prepared->plan.inputs, options.format, options.seed, region)
                             .shared_bytes));
  }
  std::string region = prepared->shared_inputs ? prepared->shared_inputs->region() : "";
  prepared->configure = [address, region, &options](LevelConfig& level) {
    level.address = address;
    level.target = fmt::format("/v2/models/{}/infer", options.model);
    level.format = options.format;
    level.shared_memory_region = region;
  };
  return prepared;
}

// Over gRPC: inputs from ModelMetadata (and ModelConfig's max_batch_size when the server has
// it), the split from ModelStatistics; no instance counters (they are switchyard's /v2/status).
StatusOr<std::unique_ptr<Prepared>> PrepareGrpc(const BenchOptions& options) {
  auto prepared = std::make_unique<Prepared>();
  ASSIGN_OR_RETURN(std::string address, ParseGrpcAddress(options.url));
  ASSIGN_OR_RETURN(prepared->grpc, GrpcControl::Connect(address));
  GrpcControl* control = prepared->grpc.get();
  ASSIGN_OR_RETURN(ModelMetadata metadata, control->Metadata(options.model));
  ASSIGN_OR_RETURN(std::optional<int64_t> max_batch_size, control->MaxBatchSize(options.model));
  bool batched = max_batch_size ? *max_batch_size > 0 : LooksBatched(metadata);
  // Raw contents carry any datatype (FP16/BF16 as binary does): plan as for binary bodies.
  ASSIGN_OR_RETURN(prepared->plan, ResolveInputs(metadata, batched, options.batch_size,
                                                 options.shapes, BodyFormat::kBinary));
  prepared->read_stats = [control, model = options.model]() -> std::optional<StatsSnapshot> {
    auto stats = control->Stats(model);
    if (!stats.ok()) return std::nullopt;
    return *stats;
  };
  if (!prepared->read_stats()) {
    fmt::print(stderr,
               "note: no usable ModelStatistics on this server: no server-side "
               "queue/compute split\n");
  }
  prepared->read_instances = [] { return std::optional<std::vector<InstanceCounters>>(); };
  prepared->configure = [address, &options](LevelConfig& level) {
    level.protocol = Protocol::kGrpc;
    level.grpc_address = address;
    level.model = options.model;
    level.grpc_mode = options.grpc_mode;
    level.grpc_contents = options.grpc_contents;
    level.grpc_channels = options.grpc_channels;
  };
  return prepared;
}

// The benchmark itself. nullopt on success.
std::optional<Failure> Run(const BenchOptions& options) {
  auto prepared = options.protocol == Protocol::kGrpc ? PrepareGrpc(options) : PrepareHttp(options);
  if (!prepared.ok()) return Failure{ExitCode(prepared.status()), prepared.status()};
  const InputPlan* plan = &(*prepared)->plan;

  RunInfo info{options, options.threads, plan->items_per_request};
  std::vector<LevelResult> results;
  for (LevelConfig level : PlanLevels(options)) {
    level.threads = options.threads;
    level.poll = options.poll;
    (*prepared)->configure(level);
    level.inputs = plan->inputs;
    level.seed = options.seed;
    level.items_per_request = plan->items_per_request;
    level.warmup =
        std::chrono::duration_cast<Duration>(std::chrono::duration<double>(options.warmup_s));
    level.window = std::chrono::milliseconds(options.window_ms);
    level.stability = options.stability;
    level.max_windows = options.max_windows;
    level.read_stats = (*prepared)->read_stats;
    level.read_instances = (*prepared)->read_instances;
    auto result = RunLevel(level);
    if (!result.ok()) return Failure{ExitCode(result.status()), result.status()};
    fmt::print(stderr, "[{}] {:.1f} req/s, p50 {:.0f} us, {} errors, {} late, {}\n", level.label,
               result->RequestsPerSecond(),
               static_cast<double>(result->counters.latency_ns.Percentile(0.5)) / 1e3,
               result->counters.errors(), result->counters.late,
               result->replay ? "replayed" : (result->stable ? "stable" : "not stable"));
    results.push_back(std::move(*result));
  }

  fmt::print("{}", FormatTable(info, results));
  std::fflush(stdout);
  if (!options.json_out.empty()) {
    std::ofstream file(options.json_out, std::ios::trunc);
    file << ResultsJson(info, results);
    file.close();
    if (!file) {
      return Failure{1, Unavailable(fmt::format("cannot write {}", options.json_out))};
    }
  }
  for (const LevelResult& level : results) {
    if (level.counters.successes == 0) {
      return Failure{1, Unavailable(fmt::format("no request succeeded at {}", LevelName(level)))};
    }
  }
  return std::nullopt;
}

}  // namespace

void AddBenchCommand(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  auto raw = std::make_shared<RawOptions>();
  CLI::App* cmd = app.add_subcommand("bench",
                                     "Load-test a model over HTTP or gRPC: closed-loop concurrency "
                                     "sweep or open-loop request rates, "
                                     "latency and throughput");
  cmd->add_option("--url", options->url,
                  "Server base URL; with --protocol grpc HOST:PORT or grpc://HOST:PORT (default "
                  "grpc://127.0.0.1:8001)")
      ->capture_default_str();
  cmd->add_option("--protocol", raw->protocol,
                  "http (KServe v2 REST over HTTP/1.1 keep-alive) or grpc (ModelInfer over HTTP/2)")
      ->check(CLI::IsMember({"http", "grpc"}))
      ->capture_default_str();
  cmd->add_option("--grpc-mode", raw->grpc_mode,
                  "gRPC: unary (one ModelInfer call per request) or stream (ModelStreamInfer, one "
                  "stream per client, one request in flight on it)")
      ->check(CLI::IsMember({"unary", "stream"}))
      ->capture_default_str();
  cmd->add_option("--grpc-contents", raw->grpc_contents,
                  "gRPC: inputs in raw_input_contents (raw) or typed contents (typed)")
      ->check(CLI::IsMember({"raw", "typed"}))
      ->capture_default_str();
  cmd->add_option("--grpc-channels", options->grpc_channels,
                  "gRPC: HTTP/2 connections the clients share (0: one per client)")
      ->capture_default_str();
  cmd->add_option("-m,--model", options->model, "Model to load-test")->required();
  cmd->add_option("--concurrency", raw->concurrency,
                  "Closed loop: concurrent clients: N, a list A,B,C, or A:B (powers of two from A "
                  "to B)")
      ->capture_default_str();
  cmd->add_option("--request-rate", raw->request_rate,
                  "Open loop: requests/s, R or a list R1,R2 (one level each); latency counts from "
                  "each request's due time");
  cmd->add_option("--arrival", raw->arrival,
                  "Open-loop arrivals at --request-rate: poisson (seeded by --seed) or constant")
      ->check(CLI::IsMember({"poisson", "constant"}))
      ->capture_default_str();
  cmd->add_option("--schedule", raw->schedule_file,
                  "Open loop: replay this file once (one arrival offset in seconds a line)");
  cmd->add_option("--connections", options->connections,
                  "Open loop: keep-alive connections to send on; an arrival finding all busy is "
                  "late")
      ->capture_default_str();
  cmd->add_option("--threads", options->threads, "Client threads (0: number of cores)")
      ->capture_default_str();
  cmd->add_option("--poll-us", raw->poll_us,
                  "Client threads keep polling this long after each event before they sleep, us "
                  "(0: they sleep at once); takes the client's own wake-up out of a lone "
                  "request's latency, at the cost of a busy core per thread")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}))
      ->capture_default_str();
  cmd->add_option("--format", raw->format,
                  "Input encoding: json, binary (tensor extension) or shm (inputs in a "
                  "shared-memory region registered for the run; a server on this machine "
                  "started with --allow-shared-memory)")
      ->check(CLI::IsMember({"json", "binary", "shm"}))
      ->capture_default_str();
  cmd->add_option("--batch-size", options->batch_size, "Batch dimension of each request")
      ->capture_default_str();
  cmd->add_option("--shape", raw->shapes,
                  "NAME:d1,d2,... dims (without the batch dim) of an input with variable dims; "
                  "repeatable");
  cmd->add_option("--seed", options->seed, "Seed of the random input data and Poisson arrivals")
      ->capture_default_str();
  cmd->add_option("--warmup-s", options->warmup_s, "Warm-up per level, seconds")
      ->capture_default_str();
  cmd->add_option("--window-ms", options->window_ms, "Measurement window, ms")
      ->capture_default_str();
  cmd->add_option("--stability", options->stability,
                  "Two consecutive windows agree within this fraction of req/s")
      ->capture_default_str();
  cmd->add_option("--max-windows", options->max_windows,
                  "Windows per level at most; then the level is reported unstable")
      ->capture_default_str();
  cmd->add_option("--json-out", options->json_out, "Write all results to this JSON file");
  cmd->callback([options, raw, cmd] {
    raw->concurrency_given = cmd->count("--concurrency") > 0;
    raw->url_given = cmd->count("--url") > 0;
    if (Status status = FinishOptions(*raw, *options); !status.ok()) {
      fmt::print(stderr, "switchyard bench: {}\n", status.message());
      throw CLI::RuntimeError(2);
    }
    if (auto failure = Run(*options)) {
      fmt::print(stderr, "switchyard bench: {}\n", failure->status.message());
      throw CLI::RuntimeError(failure->exit_code);
    }
  });
}

}  // namespace switchyard::bench
