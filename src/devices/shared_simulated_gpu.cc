#include "devices/shared_simulated_gpu.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fmt/format.h"

namespace switchyard {
namespace {

Status Errno(const char* what) {
  return Internal(fmt::format("simulated GPU: {}: {}", what, std::strerror(errno)));
}

}  // namespace

StatusOr<std::unique_ptr<SharedSimulatedGpu>> SharedSimulatedGpu::Create(double speed) {
  int low = memfd_create("switchyard-simulated-gpu", 0);
  if (low < 0) return Errno("memfd_create");
  int fd = fcntl(low, F_DUPFD, 64);
  close(low);
  if (fd < 0) return Errno("fcntl(F_DUPFD)");
  if (ftruncate(fd, sizeof(sdk::SimulatedGpuPage)) != 0) {
    Status status = Errno("ftruncate");
    close(fd);
    return status;
  }
  void* memory =
      mmap(nullptr, sizeof(sdk::SimulatedGpuPage), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (memory == MAP_FAILED) {
    Status status = Errno("mmap");
    close(fd);
    return status;
  }
  sdk::SimulatedGpuPage* page = sdk::InitializeSimulatedGpuPage(memory);
  return std::unique_ptr<SharedSimulatedGpu>(
      new SharedSimulatedGpu(fd, page, fmt::format("{}:{}", fd, speed)));
}

SharedSimulatedGpu::~SharedSimulatedGpu() {
  munmap(page_, sizeof(sdk::SimulatedGpuPage));
  close(fd_);
}

}  // namespace switchyard
