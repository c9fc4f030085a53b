#pragma once
// The shared-memory region through which a persistent program receives a batch's input tensors
// (exec parameter shared_memory_mb): a memfd the plugin maps read-write and the program
// inherits as file descriptor kProgramFd (SWITCHYARD_EXEC_SHM_FD / _BYTES in its environment).
// A program that announces kFeatureSharedInputs gets the inputs of each batch copied here and
// named by offset in the BATCH frame, instead of written through its stdin (one memcpy instead
// of a socket copy and a read). The region has kLanes lanes of shared_memory_mb each, one per
// batch a program may hold at once (a pipelined program holds two): a batch's inputs stay in
// its lane until the program answers it. The memfd is sparse: only what batches touched is
// resident.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "switchyard/backend_sdk/status.h"
#include "switchyard/backend_sdk/unique_fd.h"

namespace switchyard::exec {

// One batch's part of the region, filled front to back.
class SharedLane {
 public:
  static constexpr uint64_t kAlignment = 64;
  SharedLane(uint8_t* region, uint64_t start, uint64_t size)
      : region_(region), start_(start), size_(size) {}
  uint64_t size() const { return size_; }
  // Copies `data` into the lane (kAlignment-aligned) and returns its offset in the region; -1
  // when it does not fit in what is left.
  int64_t Append(std::span<const uint8_t> data);

 private:
  uint8_t* region_;
  uint64_t start_;  // in the region
  uint64_t size_;
  uint64_t used_ = 0;
};

class SharedInputs {
 public:
  static constexpr int kProgramFd = 4;
  static constexpr int kLanes = 2;

  // A region of kLanes lanes of `lane_bytes` (> 0) each. Internal with errno text when
  // memfd_create, ftruncate or mmap fail.
  static sdk::StatusOr<std::unique_ptr<SharedInputs>> Create(uint64_t lane_bytes);
  ~SharedInputs();
  SharedInputs(const SharedInputs&) = delete;
  SharedInputs& operator=(const SharedInputs&) = delete;

  int fd() const { return fd_.get(); }
  uint64_t size() const { return kLanes * lane_bytes_; }  // the whole region
  // Lane `index` (< kLanes), empty: a batch starts there.
  SharedLane Lane(int index) const {
    return SharedLane(base_, static_cast<uint64_t>(index) * lane_bytes_, lane_bytes_);
  }

 private:
  SharedInputs(sdk::UniqueFd fd, uint8_t* base, uint64_t lane_bytes)
      : fd_(std::move(fd)), base_(base), lane_bytes_(lane_bytes) {}

  sdk::UniqueFd fd_;
  uint8_t* base_;
  uint64_t lane_bytes_;
};

}  // namespace switchyard::exec
