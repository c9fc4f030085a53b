#pragma once
// The core API. The HTTP front end, the benchmark tool's in-process mode and the tests all call
// switchyard through this interface; front ends hold no scheduling logic.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/clock.h"
#include "switchyard/infer.h"
#include "switchyard/model_config.h"
#include "switchyard/server_status.h"
#include "switchyard/statistics.h"
#include "switchyard/status.h"

namespace switchyard {

struct ServerOptions {
  std::string model_repository;  // required: the folder holding one folder per model
  // Simulated GPUs, e.g. "4x80GB" or "80GB,80GB,40GB:speed=0.5" (grammar in
  // src/devices/device.h; "" is none). Default nullopt: the machine's own GPUs through NVML,
  // honouring CUDA_VISIBLE_DEVICES (none, with the reason logged, where NVML is missing).
  std::optional<std::string> simulate_gpus;
  // The GPUs this server uses, written as CUDA_VISIBLE_DEVICES is (indices, UUIDs; among the
  // simulated GPUs, indices): one server per GPU is `gpus = "0"`, `"1"`, ... Replaces the
  // CUDA_VISIBLE_DEVICES the server was started with. Default nullopt: that variable's choice
  // (every GPU when it is unset).
  std::optional<std::string> gpus;
  int64_t vram_reserve_mb = 1024;  // MiB kept free on every GPU. Default 1024.
  Clock* clock = nullptr;          // null: SteadyClock. Not owned; must outlive the server.
  // Where backend plugins live (libswitchyard_backend_<name>.so). Empty: the `backends` folder
  // next to the folder of `worker_executable` (build/bin/switchyard -> build/backends).
  std::string backend_directory;
  // The switchyard binary that runs worker processes (`switchyard worker ...`). Empty: this
  // process's own executable, which is right only in the switchyard binary itself: a program
  // that embeds the server (a test) must name the binary.
  std::string worker_executable;
  // How long a reload lets the old instances finish their requests. Default 30 s.
  Duration drain_timeout = std::chrono::seconds(30);
  // MiB of shared memory per model with worker processes that its large request bodies are
  // received into (NewRequestBody), in regions of 16 MiB made as needed; the workers read the
  // inputs there. 0: none, bodies go to ordinary memory and inputs are copied to the workers.
  // Default 256.
  int64_t body_pool_mb = 256;
  // How long the thread that reads a worker's results keeps polling for the next message after
  // its last before it sleeps (0, the default: it sleeps at once). See HttpOptions::poll.
  Duration poll{};
};

enum class ModelState { kLoading, kReady, kUnavailable };

// "LOADING", "READY", "UNAVAILABLE": the names the repository index reports (Triton's).
constexpr std::string_view ModelStateName(ModelState state) {
  switch (state) {
    case ModelState::kLoading:
      return "LOADING";
    case ModelState::kReady:
      return "READY";
    case ModelState::kUnavailable:
      return "UNAVAILABLE";
  }
  return "UNAVAILABLE";
}

// What the server knows about one model. An immutable snapshot.
struct ModelInfo {
  std::shared_ptr<const ModelConfig> config;
  int64_t version = 0;            // the version being served
  std::vector<int64_t> versions;  // versions found in the repository, ascending
  ModelState state = ModelState::kLoading;
  std::string reason;  // why it is not ready, if it is not
};

// A model resolved once for a request (Server::Resolve): the config the request is decoded and
// validated against, and the queue it is submitted to. It keeps what it resolved alive; after a
// reload or unload a request submitted to it starts over on the model's successor or is refused
// (Server::Infer). Only the server that made a handle takes it. Thread-safe.
class ModelHandle {
 public:
  virtual ~ModelHandle() = default;

  virtual const std::shared_ptr<const ModelConfig>& config() const = 0;

  // Memory to receive an infer request body of `size` bytes into, before the request is decoded
  // and submitted. When the model's instances are worker processes: a block of the model's
  // shared-memory body pool, placed so that byte `aligned_at` (pass the JSON header's length)
  // is 64-byte aligned, and the workers read the inputs where they were received. Otherwise, or
  // when the pool is full: nullopt, and the caller receives the body into ordinary memory (as it
  // arrives: a client's claimed length alone never makes the server allocate).
  virtual std::optional<RequestBody> NewRequestBody(std::size_t size,
                                                    std::size_t aligned_at) const = 0;
};

// Thread-safety: every method may be called from any thread at any time after Create returns.
class Server {
 public:
  virtual ~Server() = default;

  // Scans the repository, validates every model config, plans the placement of instances on
  // the devices and loads every model. Fails (naming the file and field, or the model and the
  // memory numbers) if any config is invalid or a model cannot be placed.
  static StatusOr<std::unique_ptr<Server>> Create(ServerOptions options);

  static constexpr std::string_view kName = "switchyard";
  static std::string_view Version();
  // The KServe v2 extensions this server supports.
  static const std::vector<std::string>& Extensions();

  // The whole server's load now (for /metrics and load balancers): requests waiting in a
  // model's queue, requests executing, and the share (0 to 1) of ready instances executing a
  // batch (restarting and drained instances do not count; 0 with none ready).
  struct Load {
    int64_t queued = 0;
    int64_t running = 0;
    double utilization = 0;
  };
  virtual Load CurrentLoad() const = 0;

  virtual bool IsLive() const = 0;
  // Ready when every model that should be loaded is ready.
  virtual bool IsReady() const = 0;

  virtual std::vector<ModelInfo> ListModels() const = 0;
  // `version` -1 means the served one. NotFound names the model or version.
  virtual StatusOr<ModelInfo> GetModel(std::string_view name, int64_t version) const = 0;

  // Resolves model `name` (`version` -1: the served one) for one request; NotFound names the
  // model or version. A front end resolves a request's model once, when it parses the route.
  virtual StatusOr<std::shared_ptr<const ModelHandle>> Resolve(std::string_view name,
                                                               int64_t version) const = 0;

  // Submits a request to `model` (from this server's Resolve; `request->model_name` and
  // `model_version` name it too). Checks it against the model's config first (wrong inputs:
  // InvalidArgument; a model that is not ready: Unavailable), then queues it: a full queue
  // answers ResourceExhausted at once. A model reloaded since it was resolved passes the
  // request to its successor, checked against the new config (one unloaded meanwhile refuses
  // it: Unavailable).
  // `done` is called exactly once, possibly before Infer returns.
  virtual void Infer(const ModelHandle& model, std::unique_ptr<InferRequest> request,
                     InferCallback done) = 0;
  // Resolves `request->model_name` / `model_version`, then submits as above.
  void Infer(std::unique_ptr<InferRequest> request, InferCallback done) {
    auto model = Resolve(request->model_name, request->model_version);
    if (!model.ok()) return done(model.status());
    Infer(**model, std::move(request), std::move(done));
  }

  // Statistics of one model (`name` non-empty) or of all models.
  virtual StatusOr<std::vector<ModelStatistics>> Statistics(std::string_view name,
                                                            int64_t version) const = 0;

  // Devices, instances and queues right now.
  virtual ServerStatus GetStatus() const = 0;

  // Prometheus text exposition of every metric.
  virtual std::string MetricsText() const = 0;

  // The model repository API. Loads model `name` from the repository (placing its instances on
  // the memory left by the loaded models), or reloads it if it is loaded: the new instances come
  // up first, then take the new requests while the old ones finish theirs. Fails (the model
  // stays as it was) when the config is invalid, it does not fit, or its instances cannot load.
  virtual Status LoadModel(std::string_view name) = 0;
  // Unloads model `name`: new requests for it are refused (NotFound) at once; queued and
  // executing ones finish (up to `drain_timeout`, then the rest are answered Unavailable); its
  // instances end (worker processes exit, returning their device memory). NotFound if it is
  // not loaded.
  virtual Status UnloadModel(std::string_view name, Duration drain_timeout) = 0;

  // Graceful stop, grace phase: readiness turns false (so load balancers stop sending here) while
  // requests are still taken and served as before. Idempotent.
  virtual void StopBeingReady() = 0;
  // Graceful stop, first half: readiness turns false, new requests are refused, and queued and
  // executing ones are carried out, waiting at most `timeout` in all.
  virtual void Drain(Duration timeout) = 0;
  // Stops taking requests, answers queued ones Unavailable, waits for those executing, ends the
  // instances' workers. Idempotent; the destructor calls it.
  virtual void Shutdown() = 0;
};

}  // namespace switchyard
