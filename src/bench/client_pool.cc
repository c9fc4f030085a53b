#include "bench/client_pool.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>
#include <thread>

#include "core/run_polling.h"
#include "core/thread_name.h"

namespace switchyard::bench {
namespace {

namespace asio = boost::asio;

// After a transport failure a session waits this long before it is idle again, so that a dead
// server is not hammered in a tight loop.
constexpr auto kFailureBackoff = std::chrono::milliseconds(10);

bool IsSuccess(unsigned http_status) { return http_status >= 200 && http_status < 300; }

}  // namespace

struct ClientPool::Shared {
  explicit Shared(PoolConfig pool_config) : config(std::move(pool_config)) {}

  PoolConfig config;
  Endpoints endpoints;
  std::vector<HttpRequest> requests;  // one per connection
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> in_flight{0};
};

namespace {

class Session final : public LoadSession {
 public:
  Session(ClientPool::Shared& shared, asio::io_context& io, LoadRecorder& recorder,
          ArrivalProcess& arrivals, const HttpRequest& request)
      : shared_(shared),
        recorder_(recorder),
        arrivals_(arrivals),
        request_(request),
        backoff_(io),
        connection_(io, shared.endpoints, shared.config.request_timeout,
                    [this](const Status& transport, unsigned http_status) {
                      OnDone(transport, http_status);
                    }) {}

  void Send(const Arrival& arrival) override {
    shared_.in_flight.fetch_add(1, std::memory_order_relaxed);
    due_ = arrival.due;
    sent_at_ = SteadyClock::Get()->Now();
    recorder_.RecordSent(sent_at_ - due_, arrival.late);
    connection_.RoundTrip(request_);
  }

  // Abandons what is outstanding. Runs on the session's thread.
  void Close() {
    backoff_.cancel();
    connection_.Close();
  }

 private:
  void OnDone(const Status& transport, unsigned http_status) {
    TimePoint now = SteadyClock::Get()->Now();
    Duration latency = now - due_;
    Duration service = now - sent_at_;
    bool stopping = shared_.stopping.load(std::memory_order_acquire);
    // While stopping, answers that still arrive are recorded (the level's totals account for
    // every request sent); failures are not: they are the pool closing its connections.
    if (!stopping || transport.ok()) {
      if (!transport.ok()) {
        recorder_.RecordConnectionError(transport);
      } else if (IsSuccess(http_status)) {
        recorder_.RecordSuccess(http_status, latency, service, shared_.config.items_per_request);
      } else {
        recorder_.RecordHttpError(http_status, latency, service);
      }
    }
    shared_.in_flight.fetch_sub(1, std::memory_order_release);
    if (stopping) return;
    if (transport.ok()) {
      arrivals_.OnIdle(*this);
      return;
    }
    backoff_.expires_after(kFailureBackoff);
    backoff_.async_wait([this](boost::system::error_code ec) {
      if (!ec && !shared_.stopping.load(std::memory_order_acquire)) arrivals_.OnIdle(*this);
    });
  }

  ClientPool::Shared& shared_;
  LoadRecorder& recorder_;
  ArrivalProcess& arrivals_;
  const HttpRequest& request_;
  asio::steady_timer backoff_;
  HttpConnection connection_;
  TimePoint due_;
  TimePoint sent_at_;
};

// The wake-ups of one thread's arrival process, on an asio timer of that thread.
class TimerContext final : public ArrivalContext {
 public:
  TimerContext(ClientPool::Shared& shared, asio::io_context& io, ArrivalProcess& arrivals)
      : shared_(shared), arrivals_(arrivals), timer_(io) {}

  TimePoint Now() const override { return SteadyClock::Get()->Now(); }

  void WakeAt(TimePoint when) override {
    timer_.expires_at(std::chrono::time_point_cast<asio::steady_timer::clock_type::duration>(when));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec && !shared_.stopping.load(std::memory_order_acquire)) arrivals_.OnTimer();
    });
  }

  void Cancel() { timer_.cancel(); }

 private:
  ClientPool::Shared& shared_;
  ArrivalProcess& arrivals_;
  asio::steady_timer timer_;
};

}  // namespace

struct ClientPool::ClientThread {
  asio::io_context io{1};
  LoadRecorder recorder;
  std::unique_ptr<ArrivalProcess> arrivals;
  std::unique_ptr<TimerContext> context;
  std::vector<std::unique_ptr<Session>> sessions;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
};

ClientPool::ClientPool(std::unique_ptr<Shared> shared) : shared_(std::move(shared)) {}

ClientPool::~ClientPool() { Stop(); }

StatusOr<std::unique_ptr<ClientPool>> ClientPool::Start(PoolConfig config) {
  auto shared = std::make_unique<Shared>(std::move(config));
  ASSIGN_OR_RETURN(shared->endpoints, Resolve(shared->config.address));
  for (PreparedBody& body : shared->config.bodies) {
    shared->requests.push_back(MakePostRequest(shared->config.address, shared->config.target,
                                               std::move(body.body), body.json_length));
  }
  std::unique_ptr<ClientPool> pool(new ClientPool(std::move(shared)));
  Shared& state = *pool->shared_;
  std::size_t thread_count =
      std::min<std::size_t>(static_cast<std::size_t>(state.config.threads), state.requests.size());
  for (std::size_t t = 0; t < thread_count; ++t) {
    auto thread = std::make_unique<ClientThread>();
    thread->arrivals = state.config.arrivals(static_cast<int>(t), static_cast<int>(thread_count));
    thread->context = std::make_unique<TimerContext>(state, thread->io, *thread->arrivals);
    pool->threads_.push_back(std::move(thread));
  }
  for (std::size_t i = 0; i < state.requests.size(); ++i) {
    ClientThread& thread = *pool->threads_[i % thread_count];
    thread.sessions.push_back(std::make_unique<Session>(state, thread.io, thread.recorder,
                                                        *thread.arrivals, state.requests[i]));
  }
  for (std::size_t i = 0; i < pool->threads_.size(); ++i) {
    ClientThread* thread = pool->threads_[i].get();
    thread->work.emplace(thread->io.get_executor());
    asio::post(thread->io, [t = thread] {
      t->arrivals->Start(*t->context);
      for (auto& session : t->sessions) t->arrivals->OnIdle(*session);
    });
    thread->thread = std::thread([t = thread, i, poll = state.config.poll] {
      NameThisThread("sy-client-" + std::to_string(i));
      RunPolling(t->io, poll);
    });
  }
  return pool;
}

WindowCounters ClientPool::TakeWindow() {
  WindowCounters merged;
  for (auto& thread : threads_) merged.Merge(thread->recorder.TakeWindow());
  return merged;
}

ProgressTotals ClientPool::Totals() const {
  ProgressTotals sum;
  for (const auto& thread : threads_) sum.Add(thread->recorder.Totals());
  return sum;
}

int64_t ClientPool::InFlight() const { return shared_->in_flight.load(std::memory_order_acquire); }

int64_t ClientPool::Backlog() const {
  int64_t sum = 0;
  for (const auto& thread : threads_) sum += thread->arrivals->Backlog();
  return sum;
}

bool ClientPool::Finished() const {
  for (const auto& thread : threads_) {
    if (!thread->arrivals->Finished()) return false;
  }
  return InFlight() == 0;
}

void ClientPool::Stop() {
  if (stopped_) return;
  stopped_ = true;
  shared_->stopping.store(true, std::memory_order_release);
  TimePoint deadline = SteadyClock::Get()->Now() + shared_->config.stop_grace;
  while (shared_->in_flight.load(std::memory_order_acquire) > 0 &&
         SteadyClock::Get()->Now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto& thread : threads_) {
    asio::post(thread->io, [t = thread.get()] {
      t->context->Cancel();
      for (auto& session : t->sessions) session->Close();
    });
    thread->work.reset();
  }
  for (auto& thread : threads_) thread->thread.join();
}

}  // namespace switchyard::bench
