#pragma once
// A model's configuration: the contents of models/<name>/config.yaml. Every field's default and
// unit is stated here and in docs/configuration.md; the parser (src/repository/config_parser.h)
// rejects unknown keys and out-of-range values.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/datatype.h"
#include "switchyard/tensor.h"

namespace switchyard {

// One input or output of a model, without the batch dimension. -1 marks a variable dimension.
struct TensorSpec {
  std::string name;
  DataType datatype = DataType::kFp32;
  Shape dims;
};

enum class Isolation { kProcess, kThread };
enum class RoutingPolicy { kFastest, kLeastOutstanding, kPowerOfTwo, kRoundRobin };

struct InstanceConfig {
  // "all", "cpu", or a list of device indices as seen by the server. Default: all.
  // An empty `device_ids` with `all_devices == false` means CPU.
  bool all_devices = true;
  std::vector<int> device_ids;
  bool cpu = false;
  // Instances per device; 0 means `auto`: one per device, and a second where it is expected to
  // add throughput, as memory allows and max_per_device caps (PlanPlacement). Default: auto.
  int per_device = 0;
  int max_per_device = 4;     // cap for `auto`; default 4
  int gpus_per_instance = 1;  // >1: one instance spans several GPUs; default 1
  // Declared device memory per instance in MiB; nullopt means `measure` (the default).
  std::optional<int64_t> vram_mb;
  // process (default): each instance runs in a worker process of its own; thread: inside the
  // server (trusted backends, tests).
  Isolation isolation = Isolation::kProcess;
  int max_inflight_batches = 2;  // batches in flight per instance; default 2
  // The longest one batch may execute on a worker-process instance, ms; past it the worker is
  // killed and the batch's requests are answered 504 naming this limit. 0 (the default): no
  // limit: a batch runs as long as the model takes (a worker is still replaced when it dies,
  // stops or falls silent as a whole). In-process instances are never interrupted.
  int64_t execution_timeout_ms = 0;
  // Worker-process instances on GPUs: once the worker and the processes it started hold more
  // than this on one of its GPUs (NVML, checked once a second), the instance takes no new
  // batches, and its worker is restarted once those in flight are answered. MiB; 0 (the
  // default): never. For models that leak device memory.
  int64_t recycle_vram_mb = 0;
};

struct BatchingConfig {
  int64_t max_queue_delay_us = 500;        // longest wait for a fuller batch, µs; default 500
  std::vector<int> preferred_batch_sizes;  // default none
};

struct QueueConfig {
  int max_size = 512;          // requests waiting per model; full answers 429. Default 512.
  int64_t timeout_ms = 30000;  // longest wait in the queue, ms; 0 = none. Default 30000.
  int priority_levels = 1;     // default 1 (priority 1 is highest)
};

// A file of <model>/warmup/ (docs/python-models.md): part of the warm-up request of an HTTP
// envelope model. Read by the repository, not a config key.
struct WarmupSample {
  std::string name;          // the form field ("image" for image.png)
  std::string filename;      // "" for a text field (a .txt file) or a whole body (body.*)
  std::string content_type;  // from the extension
  std::string data;
};

struct WarmupConfig {
  // Warm-up requests per instance before it is ready; default 4. An HTTP envelope model
  // defaults to 1 when it has samples and 0 (not warmed) when it has none.
  int requests = 4;
  bool requests_given = false;  // whether config.yaml set `requests`
  // HTTP envelope models: the request the warm-up sends (as one multipart request, or as the
  // whole body when the only sample is body.*).
  std::vector<WarmupSample> samples;
};

struct ModelConfig {
  std::string name;        // the folder name
  std::string backend;     // required: torch | exec | python | sim | cuda
  int max_batch_size = 0;  // 0: the model takes no batch dimension. Default 0.
  // Required, at least one each; a python model may leave both out (see http_envelope).
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  // A `backend: python` model that declares no inputs and outputs takes HTTP as it is: its one
  // input `request` and one output `response` (BYTES, [1]) hold HTTP envelopes
  // (src/core/http_envelope.h) that POST .../predict builds and reads. Not a config key.
  bool http_envelope = false;
  InstanceConfig instances;
  BatchingConfig batching;
  QueueConfig queue;
  RoutingPolicy routing = RoutingPolicy::kFastest;
  // Whether running a request twice is harmless (default true). false: a request whose
  // instance died while running it fails instead of running again on another instance, and a
  // job that was running when the server stopped fails at the restart instead of running again.
  bool idempotent = true;
  WarmupConfig warmup;
  // Passed to the backend untouched; scalar values as text.
  std::map<std::string, std::string> parameters;
  // Environment variables of the model's worker processes (and so of the programs an exec model
  // starts), over the server's own. Names [A-Za-z_][A-Za-z0-9_]*; CUDA_VISIBLE_DEVICES and
  // SWITCHYARD_* are the server's to set. Default none. In-process instances ignore it.
  std::map<std::string, std::string> environment;

  const TensorSpec* FindInput(std::string_view input_name) const;
  const TensorSpec* FindOutput(std::string_view output_name) const;
};

std::string_view RoutingPolicyName(RoutingPolicy policy);

}  // namespace switchyard
