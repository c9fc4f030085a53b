#include "bench/open_loop.h"

namespace switchyard::bench {

void OpenLoop::Start(ArrivalContext& context) {
  context_ = &context;
  start_ = context.Now();
  std::optional<Duration> first = schedule_->Next();
  if (first) {
    next_due_ = start_ + *first;
    context_->WakeAt(*next_due_);
  } else {
    exhausted_.store(true, std::memory_order_release);
  }
}

void OpenLoop::OnIdle(LoadSession& session) {
  if (!late_.empty()) {
    TimePoint due = late_.front();
    late_.pop_front();
    backlog_.store(static_cast<int64_t>(late_.size()), std::memory_order_release);
    session.Send({due, true});
    return;
  }
  idle_.push_back(&session);
}

void OpenLoop::OnTimer() { Advance(); }

void OpenLoop::Advance() {
  TimePoint now = context_->Now();
  while (next_due_ && *next_due_ <= now) {
    Dispatch(*next_due_);
    std::optional<Duration> offset = schedule_->Next();
    next_due_.reset();
    if (offset) next_due_ = start_ + *offset;
  }
  if (next_due_) {
    context_->WakeAt(*next_due_);
  } else {
    exhausted_.store(true, std::memory_order_release);
  }
}

void OpenLoop::Dispatch(TimePoint due) {
  if (idle_.empty()) {
    late_.push_back(due);
    backlog_.store(static_cast<int64_t>(late_.size()), std::memory_order_release);
    return;
  }
  LoadSession* session = idle_.back();
  idle_.pop_back();
  session->Send({due, false});
}

bool OpenLoop::Finished() const {
  return exhausted_.load(std::memory_order_acquire) && Backlog() == 0;
}

int64_t OpenLoop::Backlog() const { return backlog_.load(std::memory_order_acquire); }

ArrivalFactory OpenLoop::Factory(ArrivalSpec spec) {
  return [spec = std::move(spec)](int thread, int threads) {
    return std::make_unique<OpenLoop>(SplitSchedule(spec, thread, threads));
  };
}

}  // namespace switchyard::bench
