#pragma once
// SlotArena: a bump allocator over one shared-memory slot. It hands out offsets into the slot
// (what the ipc messages carry) for the tensors of one batch; Reset frees them all at once for the
// next batch. Bookkeeping only: it never reads or writes the slot. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace switchyard::ipc {

class SlotArena {
 public:
  // Every offset Allocate returns is a multiple of this. (The slot's start is page-aligned when
  // it is a ShmRegion, so the addresses are aligned too.)
  static constexpr uint64_t kAlignment = 64;
  // `n` rounded up to a multiple of kAlignment (for sizing slots). REQUIRES: no overflow.
  static constexpr uint64_t AlignUp(uint64_t n) {
    return (n + kAlignment - 1) / kAlignment * kAlignment;
  }

  // `slot` must outlive the arena.
  explicit SlotArena(std::span<std::byte> slot) : slot_(slot) {}

  // The offset of `size` fresh bytes, aligned to kAlignment, or nullopt if they do not fit in
  // what is left (the arena is then unchanged). A size of 0 gets an aligned offset too.
  std::optional<uint64_t> Allocate(uint64_t size);

  // Frees every allocation.
  void Reset() { used_ = 0; }

  // Bytes from the start of the slot to the end of the last allocation.
  uint64_t used() const { return used_; }
  uint64_t capacity() const { return slot_.size(); }
  // The slot's first byte: an allocation's bytes start at data() + offset.
  std::byte* data() const { return slot_.data(); }

 private:
  std::span<std::byte> slot_;
  uint64_t used_ = 0;  // <= capacity()
};

}  // namespace switchyard::ipc
