#pragma once
// Jobs over HTTP: a request submitted as a job is stored (jobs/job_store.h) and answered 202 at
// once; the service runs it later through the router as the synchronous route would
// (`/predict` or `/infer`), keeps the response, and lets the client follow the job, fetch the
// result, cancel it, or list jobs:
//
//   POST /v2/models/{m}[/versions/{v}]/jobs   submit (what /predict takes; a KServe binary body
//                                             with Inference-Header-Content-Length: /infer)
//   POST .../predict or .../infer with `Prefer: respond-async`: submit as that route
//   GET /v2/jobs/{id}            state, position in the queue, progress, attempts, timestamps
//   GET /v2/jobs/{id}/result     the stored response; 409 until the job has one
//   GET /v2/jobs/{id}/events     Server-Sent Events: the job now, then each change of its state
//                                and each progress report of its model, until it ends (a
//                                comment line every JobOptions::event_keepalive meanwhile)
//   DELETE /v2/jobs/{id}         cancel (a queued job leaves the queue; a running one is told)
//   GET /v2/jobs?model=&state=&limit=&after=   a page of jobs in submission order (a
//                                              management call: JobOptions::admin_token)
//
// The store is opened at start when its folder exists (and the jobs a previous run left queued or
// running are queued again), else made at the first submit: a server that gets no job writes
// nothing. Each model runs at most `per_model` jobs at a time, in submission order; a run its
// model's queue refuses (429) goes back to the front of the job queue and is tried again shortly. A
// job running when the server stopped runs again after a restart (attempts + 1), unless its model
// is not idempotent: then it fails, saying so. Thread-safety:
// every method may be called from any thread.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "frontend/http/http_types.h"
#include "jobs/job_store.h"
#include "metrics/metrics.h"
#include "switchyard/clock.h"

namespace switchyard::http {

struct JobOptions {
  std::string state_dir;               // where the job store lives (created if missing)
  std::size_t max_unfinished = 10000;  // queued + running jobs; a submit beyond is answered 429
  int per_model = 4;                   // jobs of one model run at once
  Duration retry_after = std::chrono::milliseconds(50);  // after the model's queue said 429
  // A finished job (its result) is removed this long after it finished.
  Duration result_ttl = std::chrono::hours(24);
  // How often an event stream without news gets a comment line, so that proxies that end idle
  // connections keep it open.
  Duration event_keepalive = std::chrono::seconds(15);
  // Request and result bodies the store may hold; a submit beyond is answered 507.
  uint64_t max_stored_bytes = uint64_t{1} << 30;
  // Whether a job of `model` that was running when the server stopped may run again (null: every
  // model's may). One whose model says no fails at the next start (ModelConfig::idempotent).
  std::function<bool(const std::string& model)> may_run_again;
  // The list of jobs names every job, so it is a management call (admin_token.h): it needs this
  // token when one is set, and a client on this machine when none is. A job itself is reached
  // by its id, which only its submitter knows.
  std::string admin_token;
};

class JobService {
 public:
  // Runs a request as the synchronous route would and answers through the ReplyFn (the
  // router's Handle).
  using RunFn = std::function<void(HttpRequest, ReplyFn)>;

  // Opens the store if its folder exists, queuing again the jobs a previous run left queued or
  // running. `run` must stay callable until the service is destroyed.
  static StatusOr<std::unique_ptr<JobService>> Create(JobOptions options, RunFn run);
  // StopStarting, then waits (10 s at most) for the answers of the jobs still running, which
  // are recorded. REQUIRES: whatever answers `run` calls has answered them or will within that
  // time (destroy the service after the Server's Shutdown).
  ~JobService();
  JobService(const JobService&) = delete;
  JobService& operator=(const JobService&) = delete;

  // Submits `request` as a job of model `model` (`version` -1: the served one) that runs as
  // `run_target` (the route and query string the synchronous request would have had).
  void Submit(HttpRequest request, const std::string& model, int64_t version,
              std::string run_target, const ReplyFn& reply) EXCLUDES(mu_);
  // Starts no more jobs (before the server drains: a run it refused would be recorded as
  // failed). Jobs still queued stay queued in the store for the next start; a running job that
  // the stopping server answers 503 or 429 is queued there again too. Idempotent.
  void StopStarting() EXCLUDES(mu_);

  // The job metrics in the Prometheus text format: jobs queued and running, jobs finished by
  // state, job durations, refused submits, bytes stored.
  std::string MetricsText() EXCLUDES(mu_);

  // The routes under /v2/jobs: `rest` is the path after "/v2/jobs" ("" or "/{id}[/result]").
  void Handle(const HttpRequest& request, std::string_view rest, const ReplyFn& reply)
      EXCLUDES(mu_);

 private:
  struct Running {
    std::shared_ptr<CancelToken> cancel;
    bool cancel_requested = false;
    std::optional<double> progress;  // the model's last report, 0 to 1
    std::string message;             // with it
  };
  struct ModelQueue {
    std::deque<std::string> queued;  // job ids, submission order
    int running = 0;
    TimePoint retry_at{};  // its queue refused a run: none start before this
  };

  JobService(JobOptions options, RunFn run);

  // The store, once open (null before the first submit when its folder did not exist).
  jobs::JobStore* store() const { return store_ptr_.load(std::memory_order_acquire); }
  // Opens the store, making its folder, if it is not open yet.
  StatusOr<jobs::JobStore*> OpenStore() EXCLUDES(open_mu_);
  bool MayRunAgain(const std::string& model) const;
  // Records job `job`, found running at the start, as failed: its model may not run it again.
  Status FailInterrupted(const jobs::JobRecord& job);

  // Submit once the job's place among the unfinished ones is held: stores and queues it
  // (`*queued`), or answers why not.
  void SubmitHeld(HttpRequest request, const std::string& model, int64_t version,
                  std::string run_target, const std::string& key, bool* queued,
                  const ReplyFn& reply) EXCLUDES(mu_);
  void HandleJob(const HttpRequest& request, std::string_view id, std::string_view action,
                 const ReplyFn& reply) EXCLUDES(mu_);
  void HandleList(const HttpRequest& request, const ReplyFn& reply);
  // GET /v2/jobs/{id}/events for `job`, as it is now.
  void HandleEvents(const jobs::JobRecord& job, const ReplyFn& reply) EXCLUDES(mu_);
  // Sends `job`'s state (as the store has it after a change) to its event streams, and ends
  // them when the job has ended.
  void Notify(const jobs::JobRecord& job) EXCLUDES(mu_);
  // The job's JSON (with its queue position while queued).
  std::string JobJson(const jobs::JobRecord& record) EXCLUDES(mu_);
  // Moves the jobs that may start now into `ready` (model key, job id) and running_; returns
  // when the next one may (max: none is waiting for a time).
  TimePoint TakeReady(std::vector<std::pair<std::string, std::string>>* ready) REQUIRES(mu_);
  void Start(const std::string& model_key, const std::string& id) EXCLUDES(mu_);
  void OnAnswer(const std::string& model_key, const std::string& id, HttpReply reply) EXCLUDES(mu_);
  // The running job `id`'s model reported its progress: kept for its status, and sent to its
  // event streams. Ignored once the job has ended.
  void OnProgress(const std::string& id, double fraction, std::string_view message) EXCLUDES(mu_);
  // The running job `id`'s model sent a partial response (as the reply its route would give):
  // sent to its event streams as `event: partial`, not kept. Ignored once the job has ended.
  void OnPartial(const std::string& id, HttpReply partial) EXCLUDES(mu_);
  // Writes `event` to the event streams that follow job `id`.
  void WriteToWatchers(const std::string& id, const std::string& event) REQUIRES(mu_);
  void DispatchLoop() EXCLUDES(mu_);
  // Removes the jobs whose results expired (JobOptions::result_ttl).
  void Expire();
  // Writes a comment line to every event stream (and forgets the streams whose client left).
  void KeepStreamsAlive() EXCLUDES(mu_);
  // How often Expire runs: half the time to live, from 100 ms to 10 s.
  Duration ExpiryInterval() const;
  void RecordFinished(jobs::JobState state, int64_t created_ms);

  const JobOptions options_;
  const RunFn run_;
  Mutex open_mu_;
  std::unique_ptr<jobs::JobStore> store_ GUARDED_BY(open_mu_);
  std::atomic<jobs::JobStore*> store_ptr_{nullptr};  // store_, readable without the lock
  SteadyClock clock_;

  Mutex mu_;
  CondVar wake_;
  std::map<std::string, ModelQueue> models_ GUARDED_BY(mu_);  // by "model/version"
  std::map<std::string, Running> running_ GUARDED_BY(mu_);    // by job id
  // The event streams following each job (GET .../events), by job id.
  std::map<std::string, std::vector<std::shared_ptr<ReplyStream>>> watchers_ GUARDED_BY(mu_);
  std::size_t unfinished_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  TimePoint next_expiry_ GUARDED_BY(mu_){};
  TimePoint next_keepalive_ GUARDED_BY(mu_){};
  metrics::Registry metrics_;
  metrics::Histogram* const duration_;
  std::thread dispatcher_;  // started last
};

}  // namespace switchyard::http
