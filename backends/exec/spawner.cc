#include "exec/spawner.h"

namespace switchyard::exec {

Spawner::Spawner() : thread_([this] { Loop(); }) {}

Spawner::~Spawner() {
  {
    sdk::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

void Spawner::Run(const std::function<void()>& fn) {
  Job job{&fn};
  {
    sdk::MutexLock lock(&mu_);
    jobs_.push_back(&job);
    cv_.SignalAll();
    while (!job.done) cv_.Wait(&mu_);
  }
  if (job.error) std::rethrow_exception(job.error);
}

void Spawner::Loop() {
  while (true) {
    Job* job = nullptr;
    {
      sdk::MutexLock lock(&mu_);
      while (jobs_.empty() && !stopping_) cv_.Wait(&mu_);
      if (jobs_.empty()) return;  // stopping
      job = jobs_.front();
      jobs_.pop_front();
    }
    try {
      (*job->fn)();
    } catch (...) {
      job->error = std::current_exception();
    }
    {
      sdk::MutexLock lock(&mu_);
      job->done = true;  // after this the caller may return and destroy *job
    }
    cv_.SignalAll();
  }
}

}  // namespace switchyard::exec
