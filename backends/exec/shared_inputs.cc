#include "exec/shared_inputs.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace switchyard::exec {

int64_t SharedLane::Append(std::span<const uint8_t> data) {
  const uint64_t start = (used_ + kAlignment - 1) / kAlignment * kAlignment;
  if (start > size_ || data.size() > size_ - start) return -1;
  if (!data.empty()) std::memcpy(region_ + start_ + start, data.data(), data.size());
  used_ = start + data.size();
  return static_cast<int64_t>(start_ + start);
}

sdk::StatusOr<std::unique_ptr<SharedInputs>> SharedInputs::Create(uint64_t lane_bytes) {
  const uint64_t bytes = kLanes * lane_bytes;
  sdk::UniqueFd fd(memfd_create("switchyard-exec-inputs", MFD_CLOEXEC));
  if (!fd.valid()) return sdk::Internal(std::string("memfd_create: ") + std::strerror(errno));
  if (ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) {
    return sdk::Internal(std::string("ftruncate of the shared input region: ") +
                         std::strerror(errno));
  }
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (base == MAP_FAILED) {
    return sdk::Internal(std::string("mmap of the shared input region: ") + std::strerror(errno));
  }
  return std::unique_ptr<SharedInputs>(
      new SharedInputs(std::move(fd), static_cast<uint8_t*>(base), lane_bytes));
}

SharedInputs::~SharedInputs() { munmap(base_, size()); }

}  // namespace switchyard::exec
