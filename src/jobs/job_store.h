#pragma once
// Where jobs live: an embedded SQLite database (WAL) in the state folder, holding each job's
// request until it has run and its response once it has. Every change is committed before the
// call returns, so a server killed at any moment (kill -9) finds on restart every job it had
// accepted, in its state as of the last change. Thread-safety: every method may be called from
// any thread (one connection, serialised by a mutex).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"
#include "switchyard/status.h"

struct sqlite3;

namespace switchyard::jobs {

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };

// "queued", "running", "succeeded", "failed", "cancelled".
std::string_view JobStateName(JobState state);
std::optional<JobState> ParseJobState(std::string_view name);
inline bool Finished(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kFailed ||
         state == JobState::kCancelled;
}

// The request a job runs: an HTTP request replayed through the router.
struct JobRequest {
  std::string target;        // e.g. "/v2/models/m/predict?x=1"
  std::string content_type;  // "" when the client sent none
  std::optional<std::string> inference_header_length;
  std::string body;
};

// The response a job's run gave: what the synchronous route would have answered.
struct JobResult {
  unsigned status = 0;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type
  std::string body;
};

// A job without its request and result bodies.
struct JobRecord {
  std::string id;
  int64_t seq = 0;  // submission order
  std::string model;
  int64_t version = -1;  // as the client named it; -1: the served one
  JobState state = JobState::kQueued;
  int attempts = 0;        // runs started, including one that runs now
  int64_t created_ms = 0;  // Unix time, ms
  std::optional<int64_t> started_ms;
  std::optional<int64_t> finished_ms;
  std::optional<unsigned> result_status;
  std::string error;  // a failed job's error message
};

// A job that starts running, with the request it runs.
struct RunningJob {
  JobRecord record;
  JobRequest request;
};

class JobStore {
 public:
  // Opens the database in `directory` (created if missing, with the database file), and sets
  // it up for this version of the server. Errors name the path.
  static StatusOr<std::unique_ptr<JobStore>> Open(const std::string& directory);
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // Records a new queued job. With an `idempotency_key` already used, records nothing and
  // returns the earlier job instead (`*created` false).
  StatusOr<JobRecord> Add(const std::string& id, const std::string& model, int64_t version,
                          const JobRequest& request, const std::string& idempotency_key,
                          int64_t now_ms, bool* created) EXCLUDES(mu_);

  StatusOr<std::optional<JobRecord>> Get(std::string_view id) const EXCLUDES(mu_);
  // NotFound unless the job finished with a response (succeeded or failed).
  StatusOr<JobResult> Result(std::string_view id) const EXCLUDES(mu_);

  // The changes of state below each return the job as changed, or NotFound when it was not in
  // the state the change starts from. One statement each.
  //
  // Queued → running: attempts + 1, started_ms = now; with the request to run.
  StatusOr<RunningJob> MarkRunning(std::string_view id, int64_t now_ms) EXCLUDES(mu_);
  // Running → queued: a run its model refused before it started (`undo_attempt`: attempts - 1),
  // or one a restart found running (it counts).
  StatusOr<JobRecord> MarkQueued(std::string_view id, bool undo_attempt) EXCLUDES(mu_);
  // Running → succeeded or failed with the response; the request body is dropped.
  StatusOr<JobRecord> Finish(std::string_view id, JobState state, const JobResult& result,
                             const std::string& error, int64_t now_ms) EXCLUDES(mu_);
  // Queued or running → cancelled; the request body is dropped.
  StatusOr<JobRecord> Cancel(std::string_view id, int64_t now_ms) EXCLUDES(mu_);

  // Jobs in submission order: those after job `after` (empty: from the first), of `model` and
  // in `state` when given, at most `limit`.
  StatusOr<std::vector<JobRecord>> List(const std::string& model, std::optional<JobState> state,
                                        const std::string& after, int limit) const EXCLUDES(mu_);
  // Every queued or running job, in submission order (what a restart runs again).
  StatusOr<std::vector<JobRecord>> Unfinished() const EXCLUDES(mu_);

  // Removes the jobs that finished before `cutoff_ms`, with their results; returns how many.
  StatusOr<int64_t> DeleteFinishedBefore(int64_t cutoff_ms) EXCLUDES(mu_);
  // Bytes of the request and result bodies the store holds.
  uint64_t stored_bytes() const EXCLUDES(mu_);

 private:
  explicit JobStore(sqlite3* db) : db_(db) {}
  // The bytes of job `id`'s request and result bodies (0 for an unknown job).
  StatusOr<uint64_t> BodyBytes(std::string_view id) const REQUIRES(mu_);

  mutable Mutex mu_;
  sqlite3* const db_;  // guarded by mu_
  uint64_t stored_bytes_ GUARDED_BY(mu_) = 0;
};

}  // namespace switchyard::jobs
