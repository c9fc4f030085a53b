#include "sim_device.h"

namespace switchyard::sim {

SimDevice::SimDevice(std::string name, double speed) : name_(std::move(name)), speed_(speed) {
  thread_ = std::thread([this] { Run(); });
}

SimDevice::~SimDevice() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

void SimDevice::Submit(std::function<Duration()> compute, std::function<void()> complete) {
  {
    MutexLock lock(&mu_);
    jobs_.push_back(Job{std::move(compute), std::move(complete)});
  }
  cv_.Signal();
}

void SimDevice::Run() {
  while (true) {
    Job job;
    {
      MutexLock lock(&mu_);
      while (jobs_.empty() && !stopping_) cv_.Wait(&mu_);
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    // Real time on purpose: this thread stands in for a device doing the work.
    auto start = std::chrono::steady_clock::now();
    Duration service = job.compute();
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Duration>(service / speed_));
    job.complete();
  }
}

}  // namespace switchyard::sim
