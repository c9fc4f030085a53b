#include "ipc/slot_arena.h"

namespace switchyard::ipc {

std::optional<uint64_t> SlotArena::Allocate(uint64_t size) {
  // Written so that nothing overflows, whatever `size` is: used_ <= capacity().
  const uint64_t padding = (kAlignment - used_ % kAlignment) % kAlignment;
  if (padding > capacity() - used_) return std::nullopt;
  const uint64_t offset = used_ + padding;
  if (size > capacity() - offset) return std::nullopt;
  used_ = offset + size;
  return offset;
}

}  // namespace switchyard::ipc
