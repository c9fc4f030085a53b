#pragma once
// An inference request and its response, as the core API takes and returns them.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/request_body.h"
#include "switchyard/status.h"
#include "switchyard/tensor.h"

namespace switchyard {

// Lets whoever submitted a request withdraw it (the client went away), and the scheduler tell
// an executing request's instance that the client's deadline passed. A request still queued
// is dropped and answered Cancelled; one already executing is told (its backend may stop it,
// see SyHostApi::request_cancelled), and its answer is not sent. Thread-safe.
class CancelToken {
 public:
  // The client went away. Idempotent. Runs the notifier (if any, and not run yet) once, on the
  // calling thread.
  void Cancel();
  // The client's deadline (InferRequest::timeout_us) passed while the request executed: its
  // instance is told as for Cancel, and its answer is still sent (DeadlineExceeded when the
  // backend gave the request up). Idempotent; runs the notifier like Cancel.
  void Expire();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  bool expired() const { return expired_.load(std::memory_order_acquire); }
  // Set by whoever holds the request (its queue, then its instance) to hear of Cancel or Expire
  // at once. Replaces any previous notifier (null clears it); if the token is already cancelled
  // or expired, runs `notifier` immediately instead.
  void SetNotifier(std::function<void()> notifier);

 private:
  void Notify();

  std::atomic<bool> cancelled_{false};
  std::atomic<bool> expired_{false};
  std::mutex mu_;
  std::function<void()> notifier_;  // guarded by mu_ (std::mutex: see src/core/mutex.h)
};

// Hears a request's progress while its backend computes it (SyHostApi::request_progress):
// `fraction` from 0 to 1 and the backend's message (may be empty). Called from an instance's
// threads, any number of times, possibly concurrently with the answer and even just after it
// (a report racing with the result): it must be cheap and tolerate that.
using ProgressFn = std::function<void(double fraction, std::string_view message)>;

// Takes the responses a backend sends for a request ahead of its final one
// (SyHostApi::request_send_partial): each a set of the model's outputs (named, typed, owning
// their bytes, checked against the config). They come in the order the backend sent them, all
// before the request's InferCallback runs; a backend sending from several threads at once may
// call Send concurrently. Thread-safe.
class PartialResponses {
 public:
  using Fn = std::function<void(std::vector<Tensor> outputs)>;
  explicit PartialResponses(Fn fn) : fn_(std::move(fn)) {}

  // Passes one response to the follower. Called by instances.
  void Send(std::vector<Tensor> outputs) {
    any_sent_.store(true, std::memory_order_release);
    fn_(std::move(outputs));
  }
  // Whether one was sent: the client has seen part of the answer, so the request is not run
  // again when its instance is lost (it fails instead).
  bool any_sent() const { return any_sent_.load(std::memory_order_acquire); }

 private:
  const Fn fn_;
  std::atomic<bool> any_sent_{false};
};

// Caps on InferRequest::parameters, enforced where requests are decoded.
inline constexpr std::size_t kMaxRequestParameters = 64;
inline constexpr std::size_t kMaxRequestParameterKeyBytes = 256;
inline constexpr std::size_t kMaxRequestParameterValueBytes = 16 << 10;

struct InferRequest {
  std::string model_name;
  int64_t model_version = -1;  // -1: the latest loaded version
  std::string id;              // echoed in the response
  std::vector<Tensor> inputs;
  // Outputs to return, by name, in this order; empty means all of the model's outputs.
  std::vector<std::string> requested_outputs;
  // The same outputs as indices into the model config's `outputs`, in the same order (empty:
  // all). Set by the server when it checks the request (ValidateRequest): instances and
  // backends read which outputs are wanted here, never from the names.
  std::vector<uint32_t> output_indices;
  // The client's request parameters for the model (KServe `parameters` other than the ones the
  // server reads, /predict query parameters), in order, values as text (a JSON string's
  // contents; other JSON values as their JSON text). At most kMaxRequestParameters.
  std::vector<std::pair<std::string, std::string>> parameters;
  int priority = 0;  // 1 is highest; 0 means the model's default (its lowest level)
  // The client's timeout in µs; may only shorten the model's queue timeout. nullopt: none.
  std::optional<int64_t> timeout_us;
  // Memory that borrowed tensor data points into (for example the HTTP body). Owned by the
  // request so it lives exactly as long as the tensors that borrow from it.
  RequestBody payload;
  std::shared_ptr<CancelToken> cancel;         // may be null
  std::shared_ptr<const ProgressFn> progress;  // may be null: nobody follows its progress
  // May be null: nobody takes responses before the final one (the backend's are dropped).
  std::shared_ptr<PartialResponses> partial;

  // Batch items this request contributes: its first input's first dimension when the model
  // batches, else 1.
  int64_t batch_size = 1;
};

// Appends (key, value) to request.parameters. InvalidArgument naming the key when a cap above
// would be passed.
Status AddRequestParameter(InferRequest& request, std::string key, std::string value);

// Where the server's time on a request went, in ns.
struct RequestTimings {
  int64_t queue_ns = 0;
  int64_t compute_ns = 0;
};

struct InferResponse {
  std::string model_name;
  int64_t model_version = 0;
  std::string id;
  std::vector<Tensor> outputs;
  RequestTimings timings;
};

// The outputs a backend produced for one request of a batch, or why that request failed.
using RequestOutputs = StatusOr<std::vector<Tensor>>;

// Called exactly once per submitted request, from any thread, with the response or the reason
// it failed. Must not block for long: it runs on a scheduler or instance thread.
using InferCallback = std::function<void(StatusOr<InferResponse>)>;

}  // namespace switchyard
