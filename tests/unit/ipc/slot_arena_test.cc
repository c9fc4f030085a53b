#include "ipc/slot_arena.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace switchyard::ipc {
namespace {

TEST(SlotArenaTest, AllocationsAreAlignedAndDisjoint) {
  std::vector<std::byte> slot(1024);
  SlotArena arena(slot);
  EXPECT_EQ(arena.capacity(), 1024u);
  EXPECT_EQ(arena.data(), slot.data());
  EXPECT_EQ(arena.used(), 0u);

  EXPECT_EQ(arena.Allocate(10), 0u);
  EXPECT_EQ(arena.used(), 10u);
  EXPECT_EQ(arena.Allocate(64), 64u);  // rounded up past the first
  EXPECT_EQ(arena.used(), 128u);
  EXPECT_EQ(arena.Allocate(1), 128u);  // already aligned: no padding
  EXPECT_EQ(arena.Allocate(0), 192u);
  EXPECT_EQ(arena.used(), 192u);
}

TEST(SlotArenaTest, ExactFitAtTheEndAndNothingAfter) {
  std::vector<std::byte> slot(256);
  SlotArena arena(slot);
  EXPECT_EQ(arena.Allocate(100), 0u);
  EXPECT_EQ(arena.Allocate(128), 128u);
  EXPECT_EQ(arena.used(), 256u);
  EXPECT_EQ(arena.Allocate(1), std::nullopt);
  EXPECT_EQ(arena.Allocate(0), 256u);  // an empty allocation at the very end still fits
}

TEST(SlotArenaTest, FailedAllocationLeavesTheArenaUnchanged) {
  std::vector<std::byte> slot(100);  // not a multiple of the alignment
  SlotArena arena(slot);
  EXPECT_EQ(arena.Allocate(10), 0u);
  EXPECT_EQ(arena.Allocate(30), 64u);
  EXPECT_EQ(arena.used(), 94u);
  EXPECT_EQ(arena.Allocate(1), std::nullopt);  // the aligned offset, 128, is past the end
  EXPECT_EQ(arena.Allocate(0), std::nullopt);
  EXPECT_EQ(arena.used(), 94u);
}

TEST(SlotArenaTest, HugeSizesDoNotWrapAround) {
  std::vector<std::byte> slot(4096);
  SlotArena arena(slot);
  EXPECT_EQ(arena.Allocate(std::numeric_limits<uint64_t>::max()), std::nullopt);
  EXPECT_EQ(arena.Allocate(1), 0u);
  EXPECT_EQ(arena.Allocate(std::numeric_limits<uint64_t>::max() - 32), std::nullopt);
  EXPECT_EQ(arena.Allocate(4097), std::nullopt);
  EXPECT_EQ(arena.used(), 1u);
}

TEST(SlotArenaTest, ResetStartsOver) {
  std::vector<std::byte> slot(128);
  SlotArena arena(slot);
  EXPECT_EQ(arena.Allocate(128), 0u);
  EXPECT_EQ(arena.Allocate(1), std::nullopt);
  arena.Reset();
  EXPECT_EQ(arena.used(), 0u);
  EXPECT_EQ(arena.Allocate(1), 0u);
}

TEST(SlotArenaTest, EmptySlotHoldsOnlyEmptyAllocations) {
  SlotArena arena(std::span<std::byte>{});
  EXPECT_EQ(arena.Allocate(1), std::nullopt);
  EXPECT_EQ(arena.Allocate(0), 0u);
}

}  // namespace
}  // namespace switchyard::ipc
