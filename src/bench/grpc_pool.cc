// StartGrpcPool of grpc_transport.h: the gRPC clients of a benchmark level. Each client thread
// owns a completion queue and drives its sessions, its arrival process (timers as grpc::Alarm)
// and its recorder from it alone, so nothing here is shared between threads but the pool's
// atomics and the recorders (which lock). Requests are serialized once per session and sent
// through the generic stub; unary answers are judged by their status alone, stream answers by
// their error_message.

#include <grpcpp/alarm.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "bench/grpc_request.h"
#include "bench/grpc_transport.h"
#include "core/thread_name.h"

namespace switchyard::bench {
namespace {

// After UNAVAILABLE or a broken stream a session waits this long before it is idle again, so
// that a dead server is not hammered in a tight loop.
constexpr auto kFailureBackoff = std::chrono::milliseconds(10);
const char kInferMethod[] = "/inference.GRPCInferenceService/ModelInfer";
const char kStreamMethod[] = "/inference.GRPCInferenceService/ModelStreamInfer";

TimePoint Now() { return SteadyClock::Get()->Now(); }

// `when` as a deadline of the monotonic clock gRPC's alarms understand.
gpr_timespec AlarmDeadline(TimePoint when) {
  int64_t ns = std::max<int64_t>(0, (when - Now()).count());
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_nanos(ns, GPR_TIMESPAN));
}

// What a completion queue hands back: the operation that completed.
class Tag {
 public:
  virtual void Proceed(bool ok) = 0;

 protected:
  ~Tag() = default;
};

template <typename Owner>
class MemberTag final : public Tag {
 public:
  MemberTag(Owner* owner, void (Owner::*method)(bool)) : owner_(owner), method_(method) {}
  void Proceed(bool ok) override { (owner_->*method_)(ok); }

 private:
  Owner* const owner_;
  void (Owner::*const method_)(bool);
};

struct Shared {
  GrpcPoolConfig config;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;  // one per channel
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> in_flight{0};
};

struct ClientThread;

// One client: a unary call or a stream exchange at a time.
class Session final : public LoadSession {
 public:
  Session(Shared& shared, ClientThread& thread, grpc::GenericStub& stub, grpc::ByteBuffer request)
      : shared_(shared), thread_(thread), stub_(stub), request_(std::move(request)) {}

  void Send(const Arrival& arrival) override;
  // At the end of the level, on the session's thread: cancels what is outstanding and closes
  // the stream; every operation still completes through the queue.
  void Cancel();

 private:
  enum class StreamState { kClosed, kStarting, kIdle, kExchanging, kFinishing };

  void StartUnary();
  void OnUnaryDone(bool ok);
  void OpenStream();
  void OnStreamStarted(bool ok);
  void Exchange();
  void OnWritten(bool ok);
  void OnRead(bool ok);
  void OnExchanged();
  void FinishStream();
  void OnStreamFinished(bool ok);
  void OnBackoffDone(bool ok);
  // Records the answer of the request in flight and lets the arrival process go on.
  void Complete(const GrpcOutcome& outcome, bool back_off);

  Shared& shared_;
  ClientThread& thread_;
  grpc::GenericStub& stub_;
  const grpc::ByteBuffer request_;
  TimePoint due_;
  TimePoint sent_at_;
  bool in_flight_ = false;
  std::unique_ptr<grpc::ClientContext> context_;
  grpc::Status status_;
  grpc::ByteBuffer response_;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> unary_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream_;
  StreamState stream_state_ = StreamState::kClosed;
  int exchange_pending_ = 0;
  bool exchange_failed_ = false;
  grpc::Alarm backoff_;
  bool backing_off_ = false;
  MemberTag<Session> unary_done_{this, &Session::OnUnaryDone};
  MemberTag<Session> started_{this, &Session::OnStreamStarted};
  MemberTag<Session> written_{this, &Session::OnWritten};
  MemberTag<Session> read_{this, &Session::OnRead};
  MemberTag<Session> finished_{this, &Session::OnStreamFinished};
  MemberTag<Session> backoff_done_{this, &Session::OnBackoffDone};
};

// The arrival process's wake-ups, as alarms on the thread's queue. A superseded alarm is
// cancelled and forgotten; its tag still comes back and is then dropped.
class AlarmContext final : public ArrivalContext {
 public:
  explicit AlarmContext(ClientThread& thread) : thread_(thread) {}
  ~AlarmContext() override = default;

  TimePoint Now() const override { return bench::Now(); }
  void WakeAt(TimePoint when) override;
  void Cancel();

 private:
  struct Timer final : Tag {
    Timer(AlarmContext* owner) : context(owner) {}
    void Proceed(bool ok) override { context->OnTimer(this, ok); }
    AlarmContext* context;
    grpc::Alarm alarm;
    bool superseded = false;
  };
  void OnTimer(Timer* timer, bool ok);

  ClientThread& thread_;
  Timer* current_ = nullptr;  // owned: deleted when its tag comes back
};

struct ClientThread {
  explicit ClientThread(Shared& pool_shared) : shared(pool_shared), context(*this) {}

  // The thread's body: starts the load, then handles events until the queue is shut down.
  void Run();
  void OnStop(bool ok);
  bool NextEvent(void** tag, bool* ok);

  Shared& shared;
  grpc::CompletionQueue cq;
  LoadRecorder recorder;
  std::unique_ptr<ArrivalProcess> arrivals;
  AlarmContext context;
  std::vector<std::unique_ptr<Session>> sessions;
  // Tags handed to gRPC and not yet back (the stop tag aside). Used on the thread only.
  int64_t outstanding = 0;
  bool draining = false;   // the stop tag came: cancel, wait for `outstanding`, shut down
  grpc::Alarm stop_alarm;  // set once by the controlling thread, in Stop()
  MemberTag<ClientThread> stop{this, &ClientThread::OnStop};
  std::thread thread;
};

void Session::Send(const Arrival& arrival) {
  shared_.in_flight.fetch_add(1, std::memory_order_relaxed);
  in_flight_ = true;
  due_ = arrival.due;
  sent_at_ = bench::Now();
  thread_.recorder.RecordSent(sent_at_ - due_, arrival.late);
  if (shared_.config.mode == GrpcMode::kUnary) {
    StartUnary();
  } else if (stream_state_ == StreamState::kClosed) {
    OpenStream();
  } else {
    Exchange();
  }
}

void Session::StartUnary() {
  context_ = std::make_unique<grpc::ClientContext>();
  context_->set_deadline(std::chrono::system_clock::now() +
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             shared_.config.request_timeout));
  unary_ = stub_.PrepareUnaryCall(context_.get(), kInferMethod, request_, &thread_.cq);
  unary_->StartCall();
  unary_->Finish(&response_, &status_, &unary_done_);
  ++thread_.outstanding;
}

void Session::OnUnaryDone(bool) {
  unary_.reset();
  context_.reset();
  response_.Clear();  // a unary answer is judged by its status alone
  auto code = static_cast<unsigned>(status_.error_code());
  Complete({code, status_.error_message()}, status_.error_code() == grpc::StatusCode::UNAVAILABLE);
}

void Session::OpenStream() {
  context_ = std::make_unique<grpc::ClientContext>();
  stream_ = stub_.PrepareCall(context_.get(), kStreamMethod, &thread_.cq);
  stream_state_ = StreamState::kStarting;
  stream_->StartCall(&started_);
  ++thread_.outstanding;
}

void Session::OnStreamStarted(bool ok) {
  if (!ok || thread_.draining) {
    FinishStream();
    return;
  }
  Exchange();
}

void Session::Exchange() {
  stream_state_ = StreamState::kExchanging;
  exchange_pending_ = 2;
  exchange_failed_ = false;
  stream_->Write(request_, &written_);
  stream_->Read(&response_, &read_);
  thread_.outstanding += 2;
}

void Session::OnWritten(bool ok) {
  exchange_failed_ |= !ok;
  if (--exchange_pending_ == 0) OnExchanged();
}

void Session::OnRead(bool ok) {
  exchange_failed_ |= !ok;
  if (--exchange_pending_ == 0) OnExchanged();
}

void Session::OnExchanged() {
  if (exchange_failed_) {
    FinishStream();
    return;
  }
  stream_state_ = StreamState::kIdle;
  inference::ModelStreamInferResponse answer;
  grpc::Status parsed = grpc::SerializationTraits<inference::ModelStreamInferResponse>::Deserialize(
      &response_, &answer);
  if (!parsed.ok()) {
    Complete({static_cast<unsigned>(grpc::StatusCode::INTERNAL),
              "unparsable stream response: " + parsed.error_message()},
             false);
    return;
  }
  Complete(ClassifyStreamResponse(answer), false);
}

void Session::FinishStream() {
  stream_state_ = StreamState::kFinishing;
  stream_->Finish(&status_, &finished_);
  ++thread_.outstanding;
}

void Session::OnStreamFinished(bool) {
  stream_.reset();
  context_.reset();
  stream_state_ = StreamState::kClosed;
  if (in_flight_) {
    Complete(ClassifyBrokenStream(status_.error_code(), status_.error_message()), true);
  }
}

void Session::Complete(const GrpcOutcome& outcome, bool back_off) {
  in_flight_ = false;
  TimePoint now = bench::Now();
  bool stopping = shared_.stopping.load(std::memory_order_acquire);
  // While stopping, answers that still arrive are recorded (the level's totals account for
  // every request sent); the cancellations of the pool's own drain are not.
  if (!stopping || outcome.status != static_cast<unsigned>(grpc::StatusCode::CANCELLED)) {
    if (outcome.status == 0) {
      thread_.recorder.RecordSuccess(0, now - due_, now - sent_at_,
                                     shared_.config.items_per_request);
    } else {
      thread_.recorder.RecordHttpError(outcome.status, now - due_, now - sent_at_, outcome.message);
    }
  }
  shared_.in_flight.fetch_sub(1, std::memory_order_release);
  if (stopping || thread_.draining) return;
  if (!back_off) {
    thread_.arrivals->OnIdle(*this);
    return;
  }
  backing_off_ = true;
  backoff_.Set(&thread_.cq, AlarmDeadline(now + kFailureBackoff), &backoff_done_);
  ++thread_.outstanding;
}

void Session::OnBackoffDone(bool ok) {
  backing_off_ = false;
  if (ok && !thread_.draining && !shared_.stopping.load(std::memory_order_acquire)) {
    thread_.arrivals->OnIdle(*this);
  }
}

void Session::Cancel() {
  if (backing_off_) backoff_.Cancel();
  if (context_) context_->TryCancel();
  if (stream_state_ == StreamState::kIdle) FinishStream();
}

void AlarmContext::WakeAt(TimePoint when) {
  if (current_ != nullptr) {
    current_->superseded = true;
    current_->alarm.Cancel();
  }
  current_ = new Timer(this);
  current_->alarm.Set(&thread_.cq, AlarmDeadline(when), current_);
  ++thread_.outstanding;
}

void AlarmContext::Cancel() {
  if (current_ != nullptr) {
    current_->superseded = true;
    current_->alarm.Cancel();
  }
}

void AlarmContext::OnTimer(Timer* timer, bool ok) {
  if (timer == current_) current_ = nullptr;
  bool fire = ok && !timer->superseded && !thread_.draining &&
              !thread_.shared.stopping.load(std::memory_order_acquire);
  delete timer;
  if (fire) thread_.arrivals->OnTimer();
}

bool ClientThread::NextEvent(void** tag, bool* ok) {
  Duration poll = shared.config.poll;
  if (poll > Duration::zero()) {
    TimePoint until = Now() + poll;
    while (Now() < until) {
      switch (cq.AsyncNext(tag, ok, gpr_time_0(GPR_CLOCK_MONOTONIC))) {
        case grpc::CompletionQueue::GOT_EVENT:
          return true;
        case grpc::CompletionQueue::SHUTDOWN:
          return false;
        case grpc::CompletionQueue::TIMEOUT:
          break;
      }
    }
  }
  return cq.Next(tag, ok);
}

void ClientThread::Run() {
  arrivals->Start(context);
  for (auto& session : sessions) arrivals->OnIdle(*session);
  void* tag = nullptr;
  bool ok = false;
  bool shut_down = false;
  while (NextEvent(&tag, &ok)) {
    if (tag != &stop) --outstanding;
    static_cast<Tag*>(tag)->Proceed(ok);
    if (draining && outstanding == 0 && !shut_down) {
      shut_down = true;
      cq.Shutdown();
    }
  }
}

void ClientThread::OnStop(bool) {
  draining = true;
  context.Cancel();
  for (auto& session : sessions) session->Cancel();
}

class GrpcPool final : public LoadPool {
 public:
  explicit GrpcPool(std::unique_ptr<Shared> shared) : shared_(std::move(shared)) {}
  ~GrpcPool() override { Stop(); }

  void Launch(std::vector<grpc::ByteBuffer> requests) {
    Shared& state = *shared_;
    std::size_t thread_count =
        std::min<std::size_t>(static_cast<std::size_t>(state.config.threads), requests.size());
    for (std::size_t t = 0; t < thread_count; ++t) {
      auto thread = std::make_unique<ClientThread>(state);
      thread->arrivals = state.config.arrivals(static_cast<int>(t), static_cast<int>(thread_count));
      threads_.push_back(std::move(thread));
    }
    for (std::size_t i = 0; i < requests.size(); ++i) {
      ClientThread& thread = *threads_[i % thread_count];
      grpc::GenericStub& stub = *state.stubs[i % state.stubs.size()];
      thread.sessions.push_back(
          std::make_unique<Session>(state, thread, stub, std::move(requests[i])));
    }
    for (std::size_t i = 0; i < threads_.size(); ++i) {
      ClientThread* thread = threads_[i].get();
      thread->thread = std::thread([thread, i] {
        NameThisThread("sy-grpc-" + std::to_string(i));
        thread->Run();
      });
    }
  }

  WindowCounters TakeWindow() override {
    WindowCounters merged;
    for (auto& thread : threads_) merged.Merge(thread->recorder.TakeWindow());
    return merged;
  }

  ProgressTotals Totals() const override {
    ProgressTotals sum;
    for (const auto& thread : threads_) sum.Add(thread->recorder.Totals());
    return sum;
  }

  int64_t InFlight() const override { return shared_->in_flight.load(std::memory_order_acquire); }

  int64_t Backlog() const override {
    int64_t sum = 0;
    for (const auto& thread : threads_) sum += thread->arrivals->Backlog();
    return sum;
  }

  bool Finished() const override {
    for (const auto& thread : threads_) {
      if (!thread->arrivals->Finished()) return false;
    }
    return InFlight() == 0;
  }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    shared_->stopping.store(true, std::memory_order_release);
    TimePoint deadline = Now() + shared_->config.stop_grace;
    while (InFlight() > 0 && Now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (auto& thread : threads_) {
      thread->stop_alarm.Set(&thread->cq, gpr_now(GPR_CLOCK_MONOTONIC), &thread->stop);
    }
    for (auto& thread : threads_) thread->thread.join();
  }

 private:
  std::unique_ptr<Shared> shared_;
  std::vector<std::unique_ptr<ClientThread>> threads_;
  bool stopped_ = false;
};

grpc::ByteBuffer Serialize(const inference::ModelInferRequest& request) {
  grpc::Slice slice(request.SerializeAsString());
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace

StatusOr<std::unique_ptr<LoadPool>> StartGrpcPool(GrpcPoolConfig config) {
  std::vector<grpc::ByteBuffer> requests;
  for (int i = 0; i < config.clients; ++i) {
    ASSIGN_OR_RETURN(inference::ModelInferRequest request,
                     BuildModelInferRequest(config.model, config.inputs, config.contents,
                                            config.seed + static_cast<uint64_t>(i)));
    requests.push_back(Serialize(request));
  }
  auto shared = std::make_unique<Shared>();
  shared->config = std::move(config);
  int channels = shared->config.channels > 0
                     ? std::min(shared->config.channels, shared->config.clients)
                     : shared->config.clients;
  for (int c = 0; c < channels; ++c) {
    grpc::ChannelArguments arguments;
    // Separate connections: without its own subchannel pool a channel would share the others'.
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    arguments.SetMaxReceiveMessageSize(-1);
    shared->stubs.push_back(std::make_unique<grpc::GenericStub>(grpc::CreateCustomChannel(
        shared->config.address, grpc::InsecureChannelCredentials(), arguments)));
  }
  auto pool = std::make_unique<GrpcPool>(std::move(shared));
  pool->Launch(std::move(requests));
  return std::unique_ptr<LoadPool>(std::move(pool));
}

}  // namespace switchyard::bench
