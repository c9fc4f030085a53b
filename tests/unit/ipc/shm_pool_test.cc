#include "ipc/shm_pool.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <set>
#include <vector>

#include "ipc/unique_fd.h"

namespace switchyard::ipc {
namespace {

constexpr uint64_t kRegion = 64 << 10;

std::shared_ptr<ShmPool> SmallPool(int max_regions) {
  return ShmPool::Create(
      {.name = "body-pool-test", .region_bytes = kRegion, .max_regions = max_regions});
}

TEST(ShmPoolTest, TheByteAtAlignedAtIsAlignedInTheRegion) {
  auto pool = SmallPool(1);
  for (uint64_t aligned_at : {0u, 1u, 63u, 64u, 100u, 777u}) {
    auto block = pool->Allocate(1000, aligned_at);
    ASSERT_NE(block, nullptr) << aligned_at;
    EXPECT_EQ((block->offset_in_region() + aligned_at) % ShmPool::kAlignment, 0u) << aligned_at;
    EXPECT_EQ(block->bytes().size(), 1000u);
    EXPECT_EQ(block->region_size(), kRegion);
  }
}

TEST(ShmPoolTest, LiveBlocksAreDisjointAndSharedWithAnotherMapping) {
  auto pool = SmallPool(1);
  auto a = pool->Allocate(5000, 0);
  auto b = pool->Allocate(5000, 3);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->region_id(), b->region_id());
  EXPECT_GE(b->offset_in_region(), a->offset_in_region() + 5000);
  std::memset(a->bytes().data(), 0xA5, 5000);
  std::memset(b->bytes().data(), 0x5A, 5000);
  // What a worker sees when it maps the region's fd.
  auto mapped = ShmRegion::Map(UniqueFd(::dup(a->region_fd())), a->region_size());
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
  EXPECT_EQ(mapped->data()[a->offset_in_region()], std::byte{0xA5});
  EXPECT_EQ(mapped->data()[a->offset_in_region() + 4999], std::byte{0xA5});
  EXPECT_EQ(mapped->data()[b->offset_in_region()], std::byte{0x5A});
}

TEST(ShmPoolTest, FullPoolRefusesUntilABlockComesBack) {
  auto pool = SmallPool(2);
  auto first = pool->Allocate(kRegion - 100, 0);
  auto second = pool->Allocate(kRegion - 100, 0);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_NE(first->region_id(), second->region_id());
  EXPECT_EQ(pool->region_count(), 2);
  EXPECT_EQ(pool->Allocate(200, 0), nullptr);  // both regions busy, no third allowed
  uint32_t freed = first->region_id();
  first.reset();
  auto again = pool->Allocate(kRegion, 0);  // the emptied region starts over
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->region_id(), freed);
  EXPECT_EQ(again->offset_in_region(), 0u);
  EXPECT_EQ(pool->region_count(), 2);
}

TEST(ShmPoolTest, RefusesEmptyAndOversizedBlocks) {
  auto pool = SmallPool(4);
  EXPECT_EQ(pool->Allocate(0, 0), nullptr);
  EXPECT_EQ(pool->Allocate(kRegion + 1, 0), nullptr);
  // A region-sized block cannot be skewed: it would need bytes past the region's end.
  EXPECT_EQ(pool->Allocate(kRegion, 5), nullptr);
  ASSERT_NE(pool->Allocate(kRegion, 0), nullptr);
}

TEST(ShmPoolTest, RegionIdsAreUniqueAndNeverZero) {
  std::set<uint32_t> ids;
  std::vector<std::unique_ptr<SharedMemoryBlock>> blocks;
  for (int p = 0; p < 3; ++p) {
    auto pool = SmallPool(2);
    blocks.push_back(pool->Allocate(kRegion, 0));
    blocks.push_back(pool->Allocate(kRegion, 0));
  }
  for (const auto& block : blocks) {
    ASSERT_NE(block, nullptr);
    EXPECT_NE(block->region_id(), 0u);
    ids.insert(block->region_id());
  }
  EXPECT_EQ(ids.size(), blocks.size());
}

TEST(ShmPoolTest, ABlockOutlivesItsPoolHandle) {
  auto pool = SmallPool(1);
  auto block = pool->Allocate(100, 0);
  ASSERT_NE(block, nullptr);
  pool.reset();
  std::memset(block->bytes().data(), 1, 100);  // still mapped (ASan would catch otherwise)
  EXPECT_EQ(block->bytes()[99], std::byte{1});
}

}  // namespace
}  // namespace switchyard::ipc
