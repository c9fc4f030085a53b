#include "frontend/http/job_service.h"

#include <sys/random.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>

#include "fmt/format.h"
#include "frontend/http/admin_token.h"
#include "frontend/http/event_stream.h"
#include "frontend/http/json_writer.h"
#include "frontend/http/kserve_codec.h"
#include "frontend/http/query_string.h"
#include "simdjson.h"
#include "spdlog/spdlog.h"

namespace switchyard::http {
namespace {

constexpr const char* kRefused = "switchyard_jobs_refused_total";
constexpr const char* kRefusedHelp =
    "Job submits refused: the job queue was full (429) or the job store was (507).";
constexpr const char* kFinished = "switchyard_jobs_finished_total";
constexpr const char* kFinishedHelp = "Jobs ended, by how they ended.";
constexpr int kDefaultListLimit = 100;
constexpr int kMaxListLimit = 1000;
constexpr std::size_t kMaxIdempotencyKeyBytes = 256;
// How long the service waits at its end for the answers of jobs still running.
constexpr auto kStopWait = std::chrono::seconds(10);
// How often expired results are looked for: half their time to live, within these.
constexpr Duration kMinExpiryInterval = std::chrono::milliseconds(100);
constexpr Duration kMaxExpiryInterval = std::chrono::seconds(10);

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// 128 random bits as 32 hex digits: a job id nobody can guess.
StatusOr<std::string> NewJobId() {
  unsigned char bytes[16];
  if (getrandom(bytes, sizeof(bytes), 0) != static_cast<ssize_t>(sizeof(bytes))) {
    return Internal("cannot draw a job id: getrandom failed");
  }
  std::string id;
  for (unsigned char b : bytes) id += fmt::format("{:02x}", b);
  return id;
}

std::string ModelKey(const std::string& model, int64_t version) {
  return fmt::format("{}/{}", model, version);
}

// The message of an error answer ({"error": "..."}), else the start of its body.
std::string ErrorMessageOf(const HttpReply& reply) {
  simdjson::dom::parser parser;
  std::string_view message;
  if (parser.parse(reply.body)["error"].get(message) == simdjson::SUCCESS) {
    return std::string(message);
  }
  return reply.body.substr(0, 1000);
}

// One Server-Sent Event: `event: state`, the job's JSON as its data.
std::string StateEvent(const std::string& job_json) { return ServerSentEvent("state", job_json); }

// What a reply leaves for the job's result: its status, headers and whole body.
jobs::JobResult ResultOf(HttpReply reply) {
  return {.status = reply.status,
          .content_type = std::move(reply.content_type),
          .headers = std::move(reply.headers),
          .body = TakeWholeBody(reply)};
}

HttpReply Conflict(std::string_view message) {
  HttpReply reply;
  reply.status = 409;
  reply.body = ErrorJson(message);
  return reply;
}

}  // namespace

StatusOr<std::unique_ptr<JobService>> JobService::Create(JobOptions options, RunFn run) {
  const bool exists = std::filesystem::is_directory(options.state_dir);
  std::unique_ptr<JobService> service(new JobService(std::move(options), std::move(run)));
  if (exists) {
    ASSIGN_OR_RETURN(jobs::JobStore * store, service->OpenStore());
    ASSIGN_OR_RETURN(std::vector<jobs::JobRecord> unfinished, store->Unfinished());
    MutexLock lock(&service->mu_);
    for (const jobs::JobRecord& job : unfinished) {
      if (job.state == jobs::JobState::kRunning) {
        if (!service->MayRunAgain(job.model)) {
          RETURN_IF_ERROR(service->FailInterrupted(job));
          continue;
        }
        RETURN_IF_ERROR(store->MarkQueued(job.id, /*undo_attempt=*/false).status());
      }
      service->models_[ModelKey(job.model, job.version)].queued.push_back(job.id);
      ++service->unfinished_;
    }
    if (service->unfinished_ > 0) {
      spdlog::info("jobs: {} unfinished job(s) from the last run queued again",
                   service->unfinished_);
    }
  }
  service->dispatcher_ = std::thread([s = service.get()] { s->DispatchLoop(); });
  return service;
}

JobService::JobService(JobOptions options, RunFn run)
    : options_(std::move(options)),
      run_(std::move(run)),
      duration_(metrics_.GetHistogram(
          "switchyard_job_duration_seconds",
          "Time from a job's submit to its end (succeeded, failed or cancelled).", {},
          metrics::ExponentialBuckets(0.01, 4, 12))) {
  for (const char* reason : {"full", "storage"}) {  // every series from the start, at 0
    metrics_.GetCounter(kRefused, kRefusedHelp, {{"reason", reason}});
  }
  for (jobs::JobState state :
       {jobs::JobState::kSucceeded, jobs::JobState::kFailed, jobs::JobState::kCancelled}) {
    metrics_.GetCounter(kFinished, kFinishedHelp,
                        {{"state", std::string(jobs::JobStateName(state))}});
  }
}

bool JobService::MayRunAgain(const std::string& model) const {
  return !options_.may_run_again || options_.may_run_again(model);
}

Status JobService::FailInterrupted(const jobs::JobRecord& job) {
  const std::string error = fmt::format(
      "the server stopped while this job ran, and model '{}' is not idempotent "
      "(idempotent: false in its config.yaml): it is not run again",
      job.model);
  ASSIGN_OR_RETURN(jobs::JobRecord failed,
                   store()->Finish(job.id, jobs::JobState::kFailed,
                                   ResultOf(ErrorReply(Internal(error))), error, NowMs()));
  RecordFinished(failed.state, failed.created_ms);
  spdlog::warn(
      "jobs: job {} of model '{}' was running when the server stopped; failed: the "
      "model is not idempotent",
      job.id, job.model);
  return Status::Ok();
}

StatusOr<jobs::JobStore*> JobService::OpenStore() {
  MutexLock lock(&open_mu_);
  if (store_ == nullptr) {
    ASSIGN_OR_RETURN(store_, jobs::JobStore::Open(options_.state_dir));
    store_ptr_.store(store_.get(), std::memory_order_release);
  }
  return store_.get();
}

JobService::~JobService() {
  StopStarting();
  MutexLock lock(&mu_);
  const TimePoint until = clock_.Now() + kStopWait;
  while (!running_.empty() && clock_.Now() < until) wake_.WaitFor(&mu_, until - clock_.Now());
  if (!running_.empty()) {
    spdlog::warn("jobs: {} job(s) still running at exit run again at the next start",
                 running_.size());
  }
}

void JobService::StopStarting() {
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    wake_.SignalAll();
  }
  dispatcher_.join();
}

void JobService::Submit(HttpRequest request, const std::string& model, int64_t version,
                        std::string run_target, const ReplyFn& reply) {
  std::string key = request.idempotency_key.value_or("");
  if (key.size() > kMaxIdempotencyKeyBytes) {
    return reply(ErrorReply(InvalidArgument(
        fmt::format("Idempotency-Key: at most {} bytes", kMaxIdempotencyKeyBytes))));
  }
  {
    MutexLock lock(&mu_);
    if (stopping_) return reply(ErrorReply(Unavailable("the server is shutting down")));
    if (unfinished_ >= options_.max_unfinished) {
      metrics_.GetCounter(kRefused, kRefusedHelp, {{"reason", "full"}})->Increment();
      return reply(ErrorReply(ResourceExhausted(fmt::format(
          "the job queue is full: {} jobs are queued or running (--max-jobs)", unfinished_))));
    }
    ++unfinished_;  // its place, held while it is stored, so concurrent submits cannot pass
  }
  bool queued = false;
  ReplyFn answer = [this, &queued, &reply](HttpReply out) {
    if (!queued) {
      MutexLock lock(&mu_);
      --unfinished_;  // the place held above is given back
    }
    reply(std::move(out));
  };
  SubmitHeld(std::move(request), model, version, std::move(run_target), key, &queued, answer);
}

void JobService::SubmitHeld(HttpRequest request, const std::string& model, int64_t version,
                            std::string run_target, const std::string& key, bool* queued,
                            const ReplyFn& reply) {
  auto id = NewJobId();
  if (!id.ok()) return reply(ErrorReply(id.status()));
  auto bytes = request.body.bytes();
  jobs::JobRequest job{
      .target = std::move(run_target),
      .content_type = std::move(request.content_type),
      .inference_header_length = std::move(request.inference_header_length),
      .body = std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size())};
  auto store = OpenStore();
  if (!store.ok()) return reply(ErrorReply(store.status()));
  if (const uint64_t stored = (*store)->stored_bytes();
      stored + bytes.size() > options_.max_stored_bytes) {
    metrics_.GetCounter(kRefused, kRefusedHelp, {{"reason", "storage"}})->Increment();
    HttpReply full;
    full.status = 507;
    full.body = ErrorJson(fmt::format(
        "the job store is full: it holds {} of {} MiB (--job-storage-mb); results are removed "
        "{} s after their job ends (--job-ttl-s)",
        stored >> 20, options_.max_stored_bytes >> 20,
        std::chrono::duration_cast<std::chrono::seconds>(options_.result_ttl).count()));
    return reply(std::move(full));
  }
  bool created = false;
  auto record = (*store)->Add(*id, model, version, job, key, NowMs(), &created);
  if (!record.ok()) return reply(ErrorReply(record.status()));
  if (created) {
    MutexLock lock(&mu_);
    models_[ModelKey(model, version)].queued.push_back(record->id);
    *queued = true;
    wake_.Signal();
  }
  HttpReply accepted = JsonReply(JobJson(*record));
  accepted.status = 202;
  accepted.headers.emplace_back("Location", "/v2/jobs/" + record->id);
  reply(std::move(accepted));
}

void JobService::Handle(const HttpRequest& request, std::string_view rest, const ReplyFn& reply) {
  if (rest.empty() || rest == "/") {
    if (Expect(Method::kGet, request, reply)) HandleList(request, reply);
    return;
  }
  rest.remove_prefix(1);
  std::size_t slash = rest.find('/');
  std::string_view id = rest.substr(0, slash);
  std::string_view action = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (action != "" && action != "result" && action != "events") {
    return reply(ErrorReply(NotFound(fmt::format("no route for '/v2/jobs/{}'", rest))));
  }
  HandleJob(request, id, action, reply);
}

void JobService::HandleJob(const HttpRequest& request, std::string_view id, std::string_view action,
                           const ReplyFn& reply) {
  jobs::JobStore* store = this->store();
  if (store == nullptr) return reply(ErrorReply(NotFound(fmt::format("no job '{}'", id))));
  auto found = store->Get(id);
  if (!found.ok()) return reply(ErrorReply(found.status()));
  if (!found->has_value()) return reply(ErrorReply(NotFound(fmt::format("no job '{}'", id))));
  const jobs::JobRecord& job = **found;
  if (action == "result") {
    if (!Expect(Method::kGet, request, reply)) return;
    if (!jobs::Finished(job.state)) {
      return reply(Conflict(fmt::format("job '{}' is {}: it has no result yet", job.id,
                                        jobs::JobStateName(job.state))));
    }
    auto result = store->Result(job.id);
    if (!result.ok()) {
      return reply(Conflict(fmt::format("job '{}' was cancelled: it has no result", job.id)));
    }
    HttpReply stored;
    stored.status = result->status;
    stored.content_type = std::move(result->content_type);
    stored.headers = std::move(result->headers);
    stored.body = std::move(result->body);
    return reply(std::move(stored));
  }
  if (action == "events") {
    if (Expect(Method::kGet, request, reply)) HandleEvents(job, reply);
    return;
  }
  if (request.method != Method::kDelete) {
    if (Expect(Method::kGet, request, reply)) reply(JsonReply(JobJson(job)));
    return;
  }
  // DELETE: a queued job leaves its queue; a running one is told, and its answer records it
  // cancelled.
  std::shared_ptr<CancelToken> tell;
  bool dequeued = false;
  {
    MutexLock lock(&mu_);
    if (auto it = running_.find(job.id); it != running_.end()) {
      it->second.cancel_requested = true;
      tell = it->second.cancel;
    } else if (auto model = models_.find(ModelKey(job.model, job.version));
               model != models_.end()) {
      auto& queued = model->second.queued;
      if (auto at = std::find(queued.begin(), queued.end(), job.id); at != queued.end()) {
        queued.erase(at);
        --unfinished_;
        dequeued = true;
      }
    }
  }
  if (tell) tell->Cancel();  // outside the lock: it runs the holder's notifier
  if (!tell && !dequeued) {
    return reply(Conflict(fmt::format("job '{}' has ended ({}): nothing to cancel", job.id,
                                      jobs::JobStateName(job.state))));
  }
  jobs::JobRecord now = job;  // running: its answer will record it cancelled
  if (dequeued) {
    auto cancelled = store->Cancel(job.id, NowMs());
    if (!cancelled.ok()) return reply(ErrorReply(cancelled.status()));
    now = std::move(cancelled).value();
    RecordFinished(jobs::JobState::kCancelled, now.created_ms);
    Notify(now);
  }
  HttpReply accepted = JsonReply(JobJson(now));
  accepted.status = 202;
  reply(std::move(accepted));
}

void JobService::HandleEvents(const jobs::JobRecord& job, const ReplyFn& reply) {
  HttpReply events;
  events.content_type = "text/event-stream";
  events.headers.emplace_back("Cache-Control", "no-store");
  events.body = StateEvent(JobJson(job));
  events.stream = std::make_shared<ReplyStream>();
  if (jobs::Finished(job.state)) {
    events.stream->End();
  } else {
    MutexLock lock(&mu_);
    auto& watchers = watchers_[job.id];
    std::erase_if(watchers, [](const auto& w) { return w->client_gone(); });
    watchers.push_back(events.stream);
  }
  reply(std::move(events));
  // A change between the read of `job` and the registration is sent now, not lost.
  if (!jobs::Finished(job.state)) {
    auto now = store()->Get(job.id);
    if (now.ok() && now->has_value() &&
        ((*now)->state != job.state || (*now)->attempts != job.attempts)) {
      Notify(**now);
    }
  }
}

void JobService::Notify(const jobs::JobRecord& job) {
  std::vector<std::shared_ptr<ReplyStream>> watchers;
  {
    MutexLock lock(&mu_);
    auto it = watchers_.find(job.id);
    if (it == watchers_.end()) return;
    watchers = it->second;
  }
  const std::string event = StateEvent(JobJson(job));
  const bool ended = jobs::Finished(job.state);
  for (const auto& watcher : watchers) {
    watcher->Write(event);
    if (ended) watcher->End();
  }
  if (ended) {
    MutexLock lock(&mu_);
    watchers_.erase(job.id);
  }
}

void JobService::HandleList(const HttpRequest& request, const ReplyFn& reply) {
  if (auto refused = RefuseWithoutToken(request, options_.admin_token, "job list")) {
    return reply(std::move(*refused));
  }
  auto query = ParseQuery(request.target);
  if (!query.ok()) return reply(ErrorReply(query.status()));
  std::string model;
  std::string after;
  std::optional<jobs::JobState> state;
  int limit = kDefaultListLimit;
  for (const auto& [name, value] : *query) {
    if (name == "model") {
      model = value;
    } else if (name == "after") {
      after = value;
    } else if (name == "state") {
      state = jobs::ParseJobState(value);
      if (!state) {
        return reply(ErrorReply(InvalidArgument(fmt::format(
            "state: '{}' is none of queued, running, succeeded, failed, cancelled", value))));
      }
    } else if (name == "limit") {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || end != value.data() + value.size() || limit < 1 ||
          limit > kMaxListLimit) {
        return reply(ErrorReply(InvalidArgument(
            fmt::format("limit: expected 1 to {}, got '{}'", kMaxListLimit, value))));
      }
    } else {
      return reply(ErrorReply(InvalidArgument(
          fmt::format("unknown query parameter '{}' (model, state, limit, after)", name))));
    }
  }
  jobs::JobStore* store = this->store();
  if (store == nullptr) return reply(JsonReply(R"({"jobs":[]})"));
  auto page = store->List(model, state, after, limit);
  if (!page.ok()) return reply(ErrorReply(page.status()));
  std::string body;
  JsonWriter w(&body);
  w.StartObject();
  w.Key("jobs");
  w.StartArray();
  for (const jobs::JobRecord& job : *page) w.Raw(JobJson(job));
  w.EndArray();
  if (static_cast<int>(page->size()) == limit) w.Member("next", page->back().id);
  w.EndObject();
  reply(JsonReply(std::move(body)));
}

std::string JobService::JobJson(const jobs::JobRecord& job) {
  std::optional<std::size_t> position;
  bool cancel_requested = false;
  std::optional<double> progress;
  std::string message;
  {
    MutexLock lock(&mu_);
    if (job.state == jobs::JobState::kQueued) {
      if (auto model = models_.find(ModelKey(job.model, job.version)); model != models_.end()) {
        const auto& queued = model->second.queued;
        auto at = std::find(queued.begin(), queued.end(), job.id);
        if (at != queued.end()) position = static_cast<std::size_t>(at - queued.begin());
      }
    }
    if (auto it = running_.find(job.id); it != running_.end() && !jobs::Finished(job.state)) {
      cancel_requested = it->second.cancel_requested;
      progress = it->second.progress;
      message = it->second.message;
    }
  }
  std::string body;
  JsonWriter w(&body);
  w.StartObject();
  w.Member("id", job.id);
  w.Member("url", "/v2/jobs/" + job.id);
  w.Member("model", job.model);
  if (job.version > 0) w.IntMember("version", job.version);
  w.Member("state", jobs::JobStateName(job.state));
  if (position) w.UintMember("position", *position);
  if (progress) {
    w.DoubleMember("progress", *progress);
    w.Member("message", message);
  }
  if (cancel_requested) w.BoolMember("cancel_requested", true);
  w.IntMember("attempts", job.attempts);
  w.IntMember("created_ms", job.created_ms);
  if (job.started_ms) w.IntMember("started_ms", *job.started_ms);
  if (job.finished_ms) w.IntMember("finished_ms", *job.finished_ms);
  if (job.result_status) w.UintMember("status", *job.result_status);
  if (!job.error.empty()) w.Member("error", job.error);
  w.EndObject();
  return body;
}

TimePoint JobService::TakeReady(std::vector<std::pair<std::string, std::string>>* ready) {
  const TimePoint now = clock_.Now();
  TimePoint next = TimePoint::max();
  for (auto& [key, model] : models_) {
    if (model.queued.empty() || model.running >= options_.per_model) continue;
    if (model.retry_at > now) {
      next = std::min(next, model.retry_at);
      continue;
    }
    while (!model.queued.empty() && model.running < options_.per_model) {
      ready->emplace_back(key, std::move(model.queued.front()));
      model.queued.pop_front();
      ++model.running;
      running_[ready->back().second].cancel = std::make_shared<CancelToken>();
    }
  }
  return next;
}

void JobService::DispatchLoop() {
  while (true) {
    std::vector<std::pair<std::string, std::string>> ready;
    bool expire = false;
    bool keepalive = false;
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
      const TimePoint now = clock_.Now();
      if (now >= next_expiry_) {
        expire = true;
        next_expiry_ = now + ExpiryInterval();
      }
      if (now >= next_keepalive_) {
        keepalive = next_keepalive_ != TimePoint{};  // not at the start: no stream is open yet
        next_keepalive_ = now + options_.event_keepalive;
      }
      const TimePoint next = std::min({TakeReady(&ready), next_expiry_, next_keepalive_});
      if (ready.empty() && !expire && !keepalive) {
        wake_.WaitFor(&mu_, next - now);
        continue;
      }
    }
    if (expire) Expire();
    if (keepalive) KeepStreamsAlive();
    for (const auto& [key, id] : ready) Start(key, id);
  }
}

Duration JobService::ExpiryInterval() const {
  return std::clamp<Duration>(options_.result_ttl / 2, kMinExpiryInterval, kMaxExpiryInterval);
}

void JobService::Expire() {
  jobs::JobStore* store = this->store();
  if (store == nullptr) return;
  const auto ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.result_ttl);
  auto removed = store->DeleteFinishedBefore(NowMs() - ttl_ms.count());
  if (!removed.ok()) {
    spdlog::error("jobs: cannot remove expired results: {}", removed.status().message());
  } else if (*removed > 0) {
    spdlog::info("jobs: {} finished job(s) older than --job-ttl-s removed", *removed);
  }
}

void JobService::KeepStreamsAlive() {
  MutexLock lock(&mu_);  // ReplyStream's lock is a leaf
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    auto& streams = it->second;
    std::erase_if(streams, [](const auto& w) { return w->client_gone(); });
    for (const auto& stream : streams) stream->Write(": keep-alive\n\n");
    it = streams.empty() ? watchers_.erase(it) : std::next(it);
  }
}

void JobService::RecordFinished(jobs::JobState state, int64_t created_ms) {
  metrics_
      .GetCounter(kFinished, kFinishedHelp, {{"state", std::string(jobs::JobStateName(state))}})
      ->Increment();
  duration_->Observe(static_cast<double>(std::max<int64_t>(0, NowMs() - created_ms)) / 1000);
}

std::string JobService::MetricsText() {
  std::size_t queued = 0;
  std::size_t running = 0;
  {
    MutexLock lock(&mu_);
    for (const auto& [key, model] : models_) queued += model.queued.size();
    running = running_.size();
  }
  constexpr const char* kJobs = "switchyard_jobs";
  constexpr const char* kJobsHelp = "Jobs not yet ended, by state.";
  metrics_.GetGauge(kJobs, kJobsHelp, {{"state", "queued"}})->Set(static_cast<double>(queued));
  metrics_.GetGauge(kJobs, kJobsHelp, {{"state", "running"}})->Set(static_cast<double>(running));
  jobs::JobStore* store = this->store();
  metrics_
      .GetGauge("switchyard_job_storage_bytes",
                "Bytes of job request and result bodies the job store holds.")
      ->Set(store == nullptr ? 0.0 : static_cast<double>(store->stored_bytes()));
  return metrics_.ExpositionText();
}

void JobService::Start(const std::string& model_key, const std::string& id) {
  std::shared_ptr<CancelToken> cancel;
  {
    MutexLock lock(&mu_);
    cancel = running_[id].cancel;
  }
  jobs::JobStore* store = this->store();  // open: the job was submitted or found in it
  auto started = store->MarkRunning(id, NowMs());
  if (!started.ok()) {
    spdlog::error("jobs: cannot start job {}: {}", id, started.status().message());
    return OnAnswer(model_key, id, ErrorReply(started.status()));
  }
  Notify(started->record);
  jobs::JobRequest& request = started->request;
  HttpRequest run;
  run.method = Method::kPost;
  run.target = std::move(request.target);
  run.content_type = std::move(request.content_type);
  run.inference_header_length = std::move(request.inference_header_length);
  run.body = RequestBody(std::move(request.body));
  run.cancel = std::move(cancel);
  run.progress = std::make_shared<const ProgressFn>(
      [this, id](double fraction, std::string_view message) { OnProgress(id, fraction, message); });
  run.on_partial = [this, id](HttpReply partial) { OnPartial(id, std::move(partial)); };
  run_(std::move(run),
       [this, model_key, id](HttpReply reply) { OnAnswer(model_key, id, std::move(reply)); });
}

void JobService::OnAnswer(const std::string& model_key, const std::string& id, HttpReply reply) {
  bool cancel_requested = false;
  bool again = false;  // refused by a full queue, or by a server that is stopping
  {
    MutexLock lock(&mu_);
    if (auto it = running_.find(id); it != running_.end()) {
      cancel_requested = it->second.cancel_requested;
      running_.erase(it);
    }
    ModelQueue& model = models_[model_key];
    --model.running;
    again = !cancel_requested && (reply.status == 429 || (reply.status == 503 && stopping_));
    if (again) {
      if (!stopping_) model.queued.push_front(id);
      if (reply.status == 429) model.retry_at = clock_.Now() + options_.retry_after;
    } else {
      --unfinished_;
    }
    wake_.SignalAll();
  }
  jobs::JobStore* store = this->store();
  StatusOr<jobs::JobRecord> recorded = Internal("not recorded");
  if (again) {
    recorded = store->MarkQueued(id, /*undo_attempt=*/true);
  } else if (cancel_requested) {
    recorded = store->Cancel(id, NowMs());
  } else {
    const bool ok = reply.status < 400;
    const std::string error = ok ? "" : ErrorMessageOf(reply);
    recorded = store->Finish(id, ok ? jobs::JobState::kSucceeded : jobs::JobState::kFailed,
                             ResultOf(std::move(reply)), error, NowMs());
  }
  if (!recorded.ok()) {
    spdlog::error("jobs: cannot record job {}: {}", id, recorded.status().message());
    return;
  }
  if (!again) RecordFinished(recorded->state, recorded->created_ms);
  Notify(*recorded);
}

void JobService::OnProgress(const std::string& id, double fraction, std::string_view message) {
  const std::string event = ServerSentEvent("progress", ProgressData(fraction, message, id));
  MutexLock lock(&mu_);
  auto it = running_.find(id);
  if (it == running_.end()) return;  // a report racing with the job's end
  it->second.progress = fraction;
  it->second.message = message;
  WriteToWatchers(id, event);
}

void JobService::OnPartial(const std::string& id, HttpReply partial) {
  const std::string event = ServerSentEvent("partial", ResultData(std::move(partial), id));
  MutexLock lock(&mu_);
  if (running_.contains(id)) WriteToWatchers(id, event);  // else racing with the job's end
}

void JobService::WriteToWatchers(const std::string& id, const std::string& event) {
  // Under mu_ (ReplyStream's own lock is a leaf): an event never overtakes the job's end.
  if (auto w = watchers_.find(id); w != watchers_.end()) {
    for (const auto& watcher : w->second) watcher->Write(event);
  }
}

}  // namespace switchyard::http
