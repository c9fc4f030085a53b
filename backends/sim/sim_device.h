#pragma once
// A simulated device: it executes the batches of every sim instance placed on it one after
// another, each holding the device for its service time divided by the device's speed, as a
// busy GPU would (a second instance on one device adds no throughput). Each CPU instance gets a
// device of its own. Thread-safety: Submit from any thread.

#include <functional>
#include <string>
#include <thread>

#include "core/work_queue.h"
#include "switchyard/clock.h"

namespace switchyard::sim {

class SimDevice {
 public:
  // REQUIRES: speed > 0.
  SimDevice(std::string name, double speed);
  ~SimDevice();  // finishes the jobs already submitted, then stops
  SimDevice(const SimDevice&) = delete;
  SimDevice& operator=(const SimDevice&) = delete;

  const std::string& name() const { return name_; }
  double speed() const { return speed_; }

  // On the device thread: runs `compute` (which returns the batch's service time at speed 1),
  // holds the device until that time divided by the speed has passed since the job started,
  // then runs `complete`.
  void Submit(std::function<Duration()> compute, std::function<void()> complete);

 private:
  struct Job {
    std::function<Duration()> compute;
    std::function<void()> complete;
  };
  void Run();

  const std::string name_;
  const double speed_;
  WorkQueue<Job> jobs_;
  std::thread thread_;
};

}  // namespace switchyard::sim
