#include "shared_sim_device.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "fmt/format.h"

namespace switchyard::sim {

struct SharedSimDevice::Page {
  pthread_mutex_t mutex;
};

namespace {

Status Errno(const char* what) {
  return Internal(fmt::format("simulated device: {}: {}", what, std::strerror(errno)));
}

StatusOr<SharedSimDevice::Page*> MapPage(int fd) {
  void* p = mmap(nullptr, sizeof(pthread_mutex_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Errno("mmap");
  return static_cast<SharedSimDevice::Page*>(p);
}

}  // namespace

StatusOr<std::unique_ptr<SharedSimDevice>> SharedSimDevice::Create(double speed) {
  // Not close-on-exec: sim workers inherit it. Moved to a high number so that it never sits
  // where a worker's channel goes (fd 3).
  int low = memfd_create("switchyard-sim-device", 0);
  if (low < 0) return Errno("memfd_create");
  int fd = fcntl(low, F_DUPFD, 64);
  close(low);
  if (fd < 0) return Errno("fcntl(F_DUPFD)");
  if (ftruncate(fd, sizeof(Page)) != 0) {
    close(fd);
    return Errno("ftruncate");
  }
  auto page = MapPage(fd);
  if (!page.ok()) {
    close(fd);
    return page.status();
  }
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&(*page)->mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  return std::unique_ptr<SharedSimDevice>(new SharedSimDevice(fd, *page, speed));
}

StatusOr<std::unique_ptr<SharedSimDevice>> SharedSimDevice::Open(const std::string& env_value) {
  int fd = -1;
  double speed = 0;
  auto colon = env_value.find(':');
  const char* end = env_value.data() + env_value.size();
  bool ok = colon != std::string::npos &&
            std::from_chars(env_value.data(), env_value.data() + colon, fd).ec == std::errc() &&
            std::from_chars(env_value.data() + colon + 1, end, speed).ec == std::errc() &&
            fd >= 0 && speed > 0;
  if (!ok) {
    return InvalidArgument(fmt::format("{}='{}': expected <fd>:<speed>", kSimDeviceEnv, env_value));
  }
  ASSIGN_OR_RETURN(Page * page, MapPage(fd));
  return std::unique_ptr<SharedSimDevice>(new SharedSimDevice(fd, page, speed));
}

SharedSimDevice::~SharedSimDevice() {
  munmap(page_, sizeof(Page));
  close(fd_);
}

std::string SharedSimDevice::EnvValue() const { return fmt::format("{}:{}", fd_, speed_); }

void SharedSimDevice::Occupy(Duration service) {
  if (pthread_mutex_lock(&page_->mutex) == EOWNERDEAD) {
    pthread_mutex_consistent(&page_->mutex);  // its holder died: the device is free again
  }
  auto until =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<Duration>(service / speed_);
  std::this_thread::sleep_until(until);
  pthread_mutex_unlock(&page_->mutex);
}

}  // namespace switchyard::sim
