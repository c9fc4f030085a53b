#include "sim_device.h"

namespace switchyard::sim {

SimDevice::SimDevice(std::string name, double speed) : name_(std::move(name)), speed_(speed) {
  thread_ = std::thread([this] { Run(); });
}

SimDevice::~SimDevice() {
  jobs_.Close();
  thread_.join();
}

void SimDevice::Submit(std::function<Duration()> compute, std::function<void()> complete) {
  (void)jobs_.Push(Job{std::move(compute), std::move(complete)});  // closed only when destroyed
}

void SimDevice::Run() {
  while (std::optional<Job> next = jobs_.Pop()) {
    Job& job = *next;
    // Real time on purpose: this thread stands in for a device doing the work.
    auto start = std::chrono::steady_clock::now();
    Duration service = job.compute();
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Duration>(service / speed_));
    job.complete();
  }
}

}  // namespace switchyard::sim
