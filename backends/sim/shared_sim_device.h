#pragma once
// A simulated GPU shared by the sim worker processes placed on it: a robust, process-shared
// mutex in a shared-memory page. Holding the mutex is occupying the device, so the batches of
// all instances on one simulated GPU run one after another, as they do in process on a
// SimDevice. A worker killed while holding it leaves the device free for the next one.
//
// The server creates one per simulated GPU and hands the fd and the device's speed to each sim
// worker placed there in the environment variable kSimDeviceEnv ("<fd>:<speed>").
// Thread-safety: Occupy from any thread of any process that mapped the device.

#include <memory>
#include <string>

#include "switchyard/clock.h"
#include "switchyard/status.h"

namespace switchyard::sim {

inline constexpr const char* kSimDeviceEnv = "SWITCHYARD_SIM_DEVICE";

class SharedSimDevice {
 public:
  // A new device of relative speed `speed` (REQUIRES: speed > 0) in a fresh memfd.
  static StatusOr<std::unique_ptr<SharedSimDevice>> Create(double speed);
  // Maps the device described by an kSimDeviceEnv value.
  static StatusOr<std::unique_ptr<SharedSimDevice>> Open(const std::string& env_value);
  ~SharedSimDevice();
  SharedSimDevice(const SharedSimDevice&) = delete;
  SharedSimDevice& operator=(const SharedSimDevice&) = delete;

  // The kSimDeviceEnv value that lets another process Open this device (its fd must be
  // inherited by that process).
  std::string EnvValue() const;
  int fd() const { return fd_; }

  // Waits for the device, then holds it for `service / speed` (real time: it stands in for a
  // device doing the work).
  void Occupy(Duration service);

  struct Page;  // the shared page (defined in the .cc)

 private:
  SharedSimDevice(int fd, Page* page, double speed) : fd_(fd), page_(page), speed_(speed) {}

  const int fd_;
  Page* const page_;
  const double speed_;
};

}  // namespace switchyard::sim
