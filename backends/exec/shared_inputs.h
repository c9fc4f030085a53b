#pragma once
// The shared-memory region through which a persistent program receives a batch's input tensors
// (exec parameter shared_memory_mb): a memfd the plugin maps read-write and the program
// inherits as file descriptor kProgramFd (SWITCHYARD_EXEC_SHM_FD / _BYTES in its environment).
// A program that announces kFeatureSharedInputs gets the inputs of each batch copied here and
// named by offset in the BATCH frame, instead of written through its stdin (one memcpy instead
// of a socket copy and a read). The region holds one batch: the program reads it before it
// answers, and the plugin overwrites it for the next batch. The memfd is sparse: only what
// batches touched is resident.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "exec/status.h"
#include "exec/unique_fd.h"

namespace switchyard::exec {

class SharedInputs {
 public:
  static constexpr int kProgramFd = 4;
  static constexpr uint64_t kAlignment = 64;

  // A region of `bytes` (> 0). Internal with errno text when memfd_create, ftruncate or mmap
  // fail.
  static StatusOr<std::unique_ptr<SharedInputs>> Create(uint64_t bytes);
  ~SharedInputs();
  SharedInputs(const SharedInputs&) = delete;
  SharedInputs& operator=(const SharedInputs&) = delete;

  int fd() const { return fd_.get(); }
  uint64_t size() const { return size_; }

  // Starts a batch: the region is empty again.
  void Reset() { used_ = 0; }
  // Copies `data` into the region (kAlignment-aligned) and returns its offset; -1 when it does
  // not fit in what is left.
  int64_t Append(std::span<const uint8_t> data);

 private:
  SharedInputs(UniqueFd fd, uint8_t* base, uint64_t size)
      : fd_(std::move(fd)), base_(base), size_(size) {}

  UniqueFd fd_;
  uint8_t* base_;
  uint64_t size_;
  uint64_t used_ = 0;
};

}  // namespace switchyard::exec
