#pragma once
// The server's side of a simulated GPU (`--simulate-gpus`): the shared-memory page that stands
// for the device (switchyard/backend_sdk/simulated_gpu.h: a robust, process-shared mutex whose
// holder occupies the device). The server makes one per simulated GPU and names it to every
// instance placed there (SyInstanceDesc::simulated_gpu): to in-process instances directly, to
// worker processes, which inherit the descriptor, through `switchyard worker --simulated-gpu`.
// So every instance on one simulated GPU, on threads of the server or in workers, takes turns.
// Thread-safety: immutable after Create.

#include <memory>
#include <string>

#include "switchyard/backend_sdk/simulated_gpu.h"
#include "switchyard/status.h"

namespace switchyard {

class SharedSimulatedGpu {
 public:
  // A new device of relative speed `speed` (REQUIRES: speed > 0) in a fresh memfd. The
  // descriptor is inherited by the processes the server starts (not close-on-exec), at 64 or
  // above, so that it never sits where a worker's channel goes (fd 3).
  static StatusOr<std::unique_ptr<SharedSimulatedGpu>> Create(double speed);
  ~SharedSimulatedGpu();
  SharedSimulatedGpu(const SharedSimulatedGpu&) = delete;
  SharedSimulatedGpu& operator=(const SharedSimulatedGpu&) = delete;

  // "<fd>:<speed>": what SyInstanceDesc::simulated_gpu says of this device, valid in this process
  // and in the processes it starts.
  const std::string& description() const { return description_; }
  const sdk::SimulatedGpuPage& page() const { return *page_; }

 private:
  SharedSimulatedGpu(int fd, sdk::SimulatedGpuPage* page, std::string description)
      : fd_(fd), page_(page), description_(std::move(description)) {}

  const int fd_;
  sdk::SimulatedGpuPage* const page_;
  const std::string description_;
};

}  // namespace switchyard
