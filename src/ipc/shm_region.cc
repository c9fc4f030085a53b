#include "ipc/shm_region.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <string>

namespace switchyard::ipc {
namespace {

Status SyscallError(std::string_view call) {
  return Internal(fmt::format("{}: {}", call, std::strerror(errno)));
}

StatusOr<std::byte*> MapShared(int fd, std::size_t size) {
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) return SyscallError("mmap");
  return static_cast<std::byte*>(data);
}

}  // namespace

StatusOr<ShmRegion> ShmRegion::Create(std::string_view name, std::size_t size) {
  if (size == 0) return InvalidArgument("shared-memory region of size 0");
  if (size > static_cast<std::size_t>(std::numeric_limits<off_t>::max())) {
    return InvalidArgument(fmt::format("shared-memory region of {} bytes is too large", size));
  }
  UniqueFd fd(::memfd_create(std::string(name).c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) return SyscallError("memfd_create");
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return SyscallError("ftruncate");
  // F_SEAL_SEAL too, so no one can add F_SEAL_WRITE later and break the peer's writes.
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
    return SyscallError("fcntl(F_ADD_SEALS)");
  }
  ASSIGN_OR_RETURN(std::byte * data, MapShared(fd.get(), size));
  return ShmRegion(std::move(fd), data, size);
}

StatusOr<ShmRegion> ShmRegion::Map(UniqueFd fd, std::size_t size) {
  if (!fd.valid()) return InvalidArgument("no fd to map");
  if (size == 0) return InvalidArgument("shared-memory region of size 0");
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return SyscallError("fstat");
  if (!S_ISREG(st.st_mode)) return InvalidArgument("shared-memory fd is not a regular file");
  if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) < size) {
    return InvalidArgument(
        fmt::format("shared-memory file has {} bytes, {} expected", st.st_size, size));
  }
  const int seals = ::fcntl(fd.get(), F_GET_SEALS);
  if (seals < 0) return SyscallError("fcntl(F_GET_SEALS)");
  if ((seals & F_SEAL_SHRINK) == 0) {
    return InvalidArgument("shared-memory fd is not sealed against shrinking");
  }
  ASSIGN_OR_RETURN(std::byte * data, MapShared(fd.get(), size));
  return ShmRegion(std::move(fd), data, size);
}

ShmRegion::ShmRegion(ShmRegion&& other) noexcept
    : fd_(std::move(other.fd_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

ShmRegion& ShmRegion::operator=(ShmRegion&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = std::move(other.fd_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

ShmRegion::~ShmRegion() { Release(); }

void ShmRegion::Release() {
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
  fd_.Reset();
}

}  // namespace switchyard::ipc
