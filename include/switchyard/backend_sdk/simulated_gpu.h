#pragma once
// A simulated GPU (`serve --simulate-gpus`) as a plugin uses it. The host makes one shared-memory
// page per simulated GPU holding a robust, process-shared mutex (SimulatedGpuPage); holding the
// mutex is occupying the device. So the batches of every instance placed on one simulated GPU, in
// worker processes and on threads of the server alike, run one after another, each holding the
// device for its service time divided by the device's speed: a second instance on a busy
// simulated GPU adds no throughput, as on a real one. A holder that dies (a killed worker) leaves
// the device free for the next (EOWNERDEAD).
//
// The host names the device to an instance in SyInstanceDesc::simulated_gpu ("<fd>:<speed>";
// SimulatedGpuOf reads it). Typical use, in SyInstanceInit and SyInstanceExecute:
//
//   std::string_view gpu = sdk::SimulatedGpuOf(*desc);
//   if (!gpu.empty()) SY_ASSIGN_OR_RETURN(instance->gpu, sdk::SimulatedGpu::Open(gpu));
//   ...
//   instance->gpu->Occupy(service_time);  // waits for the device, then holds it
//
// Thread-safety: a SimulatedGpu may Occupy from any thread, concurrently (each call waits for the
// device); several SimulatedGpu objects, in one process or several, may map one page.
//
// Part of the backend SDK (include/switchyard/backend_sdk/): header-only, C++17 and later, Linux;
// optional for plugins (docs/plugin-abi.md). The host side (making the page) is the server's
// (src/devices/shared_simulated_gpu.h), which uses the layout and InitializeSimulatedGpuPage here.

#include <pthread.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include "switchyard/backend.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::sdk {

// The shared page of one simulated GPU. Its layout is shared by the host and every plugin built
// against this header: fields are only ever appended.
struct SimulatedGpuPage {
  // Robust, process-shared: held by the batch occupying the device.
  pthread_mutex_t mutex;
  // Written by the holder, read by anyone (status, tests): the holds that have ended, and the
  // most holders ever seen at once (1 unless the mutex failed to exclude).
  std::atomic<uint64_t> occupations;
  std::atomic<uint32_t> occupants;
  std::atomic<uint32_t> most_occupants;
};
static_assert(std::atomic<uint64_t>::is_always_lock_free &&
                  std::atomic<uint32_t>::is_always_lock_free,
              "the page's counters are shared between processes: they must be lock-free");

// Constructs the page in `memory` (at least sizeof(SimulatedGpuPage) bytes of zeroed, shared
// memory), once, before any process maps it with SimulatedGpu::Open. The host's job.
inline SimulatedGpuPage* InitializeSimulatedGpuPage(void* memory) {
  auto* page = new (memory) SimulatedGpuPage{};
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&page->mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  return page;
}

// The simulated GPU the host placed an instance on (SyInstanceDesc::simulated_gpu), "" when none
// (a CPU instance, a real GPU, or a host older than the field: it reads only what struct_size
// covers).
inline std::string_view SimulatedGpuOf(const SyInstanceDesc& desc) {
  if (desc.struct_size < offsetof(SyInstanceDesc, simulated_gpu) + sizeof(desc.simulated_gpu) ||
      desc.simulated_gpu == nullptr) {
    return {};
  }
  return desc.simulated_gpu;
}

// One mapping of a simulated GPU's page.
class SimulatedGpu {
 public:
  // Maps the device `description` names ("<fd>:<speed>": SimulatedGpuOf). The descriptor stays
  // the host's (the mapping does not need it open). INVALID_ARGUMENT for a malformed description,
  // INTERNAL when the page cannot be mapped.
  static StatusOr<std::unique_ptr<SimulatedGpu>> Open(std::string_view description) {
    int fd = -1;
    double speed = 0;
    const std::size_t colon = description.find(':');
    const char* end = description.data() + description.size();
    bool ok = colon != std::string_view::npos;
    if (ok) {
      auto [fd_end, fd_ec] = std::from_chars(description.data(), description.data() + colon, fd);
      auto [speed_end, speed_ec] = std::from_chars(description.data() + colon + 1, end, speed);
      ok = fd_ec == std::errc() && fd_end == description.data() + colon &&
           speed_ec == std::errc() && speed_end == end && fd >= 0 && speed > 0;
    }
    if (!ok) {
      return InvalidArgument("simulated GPU '" + std::string(description) +
                             "': expected <fd>:<speed>");
    }
    void* memory =
        mmap(nullptr, sizeof(SimulatedGpuPage), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (memory == MAP_FAILED) {
      return Internal("simulated GPU '" + std::string(description) +
                      "': mmap: " + std::strerror(errno));
    }
    return std::unique_ptr<SimulatedGpu>(
        new SimulatedGpu(static_cast<SimulatedGpuPage*>(memory), speed));
  }

  ~SimulatedGpu() { munmap(page_, sizeof(SimulatedGpuPage)); }
  SimulatedGpu(const SimulatedGpu&) = delete;
  SimulatedGpu& operator=(const SimulatedGpu&) = delete;

  double speed() const { return speed_; }
  const SimulatedGpuPage& page() const { return *page_; }

  // Waits for the device, then holds it for `service` / speed() of real time (it stands in for
  // the device doing the work).
  void Occupy(std::chrono::nanoseconds service) {
    Hold([&] {
      std::this_thread::sleep_for(
          std::chrono::duration_cast<std::chrono::nanoseconds>(service / speed_));
    });
  }

  // Waits for the device and runs `work` while holding it (Occupy's building block). The device
  // is freed when `work` returns or throws.
  template <typename Work>
  void Hold(Work&& work) {
    if (pthread_mutex_lock(&page_->mutex) == EOWNERDEAD) {
      // Its holder died holding it: the device is free again, and nobody else is inside.
      pthread_mutex_consistent(&page_->mutex);
      page_->occupants.store(0);
    }
    struct Release {
      SimulatedGpuPage* page;
      ~Release() {
        page->occupants.fetch_sub(1);
        page->occupations.fetch_add(1);
        pthread_mutex_unlock(&page->mutex);
      }
    };
    const uint32_t occupants = page_->occupants.fetch_add(1) + 1;
    uint32_t most = page_->most_occupants.load();
    while (occupants > most && !page_->most_occupants.compare_exchange_weak(most, occupants)) {
    }
    Release release{page_};
    work();
  }

 private:
  SimulatedGpu(SimulatedGpuPage* page, double speed) : page_(page), speed_(speed) {}

  SimulatedGpuPage* const page_;
  const double speed_;
};

}  // namespace switchyard::sdk
