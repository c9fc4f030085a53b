#pragma once
// ShmRegion: a shared-memory mapping backed by a memfd, for tensor bytes shared between the
// server and a worker process. One side creates the region and passes fd() over a Channel; the
// other maps the received fd. Both mappings are MAP_SHARED and read/write, so writes on one side
// are visible on the other.
//
// A region made by Create is sealed against shrinking (F_SEAL_SHRINK), and Map accepts only such
// fds: a peer that could shrink the file under our mapping would turn our next access into
// SIGBUS. The content itself is not protected: the peer may write it at any time, so readers
// validate what they read there.
//
// Move-only; unmaps and closes in its destructor. Not thread-safe as an object, but the memory
// may be read and written from any thread (synchronising those accesses is the caller's job).

#include <cstddef>
#include <string_view>
#include <utility>

#include "ipc/unique_fd.h"
#include "switchyard/status.h"

namespace switchyard::ipc {

class ShmRegion {
 public:
  // A new memfd of `size` bytes (zero-filled), named `name` in /proc/<pid>/fd (debugging only;
  // at most 249 bytes), mapped read/write. The fd is close-on-exec.
  // Errors: InvalidArgument for size 0; Internal naming the failed syscall otherwise.
  static StatusOr<ShmRegion> Create(std::string_view name, std::size_t size);

  // Adopts `fd` (typically received over a Channel) and maps its first `size` bytes read/write.
  // Errors: InvalidArgument if `fd` is invalid, `size` is 0, the file is smaller than `size`
  // (checked with fstat) or not sealed against shrinking; Internal naming the failed syscall.
  // `fd` is closed on failure.
  static StatusOr<ShmRegion> Map(UniqueFd fd, std::size_t size);

  ShmRegion(ShmRegion&& other) noexcept;
  ShmRegion& operator=(ShmRegion&& other) noexcept;
  ShmRegion(const ShmRegion&) = delete;
  ShmRegion& operator=(const ShmRegion&) = delete;
  ~ShmRegion();

  std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  // The memfd, still owned by the region (send it with Channel::Send, which duplicates it into
  // the peer). -1 after a move.
  int fd() const { return fd_.get(); }

 private:
  ShmRegion(UniqueFd fd, std::byte* data, std::size_t size)
      : fd_(std::move(fd)), data_(data), size_(size) {}
  void Release();

  UniqueFd fd_;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace switchyard::ipc
