#include "ipc/shm_pool.h"

#include <atomic>

#include "spdlog/spdlog.h"

namespace switchyard::ipc {
namespace {

std::atomic<uint32_t> next_region_id{1};

}  // namespace

class ShmPool::Block final : public SharedMemoryBlock {
 public:
  Block(std::shared_ptr<ShmPool> pool, Region* region, uint64_t offset, uint64_t size)
      : pool_(std::move(pool)), region_(region), offset_(offset), size_(size) {}
  ~Block() override { pool_->Release(region_); }

  std::span<std::byte> bytes() const override {
    return {region_->memory.data() + offset_, static_cast<std::size_t>(size_)};
  }
  uint32_t region_id() const override { return region_->id; }
  int region_fd() const override { return region_->memory.fd(); }
  uint64_t region_size() const override { return region_->memory.size(); }
  uint64_t offset_in_region() const override { return offset_; }

 private:
  const std::shared_ptr<ShmPool> pool_;
  Region* const region_;  // memory and id never change after the region is made
  const uint64_t offset_;
  const uint64_t size_;
};

std::shared_ptr<ShmPool> ShmPool::Create(ShmPoolOptions options) {
  return std::shared_ptr<ShmPool>(new ShmPool(std::move(options)));
}

std::optional<uint64_t> ShmPool::Place(Region& region, uint64_t size, uint64_t aligned_at) {
  if (region.live == 0) region.used = 0;
  uint64_t skew = aligned_at % kAlignment;
  uint64_t offset = (region.used + skew + kAlignment - 1) / kAlignment * kAlignment - skew;
  if (offset > region.memory.size() || size > region.memory.size() - offset) return std::nullopt;
  region.used = offset + size;
  ++region.live;
  return offset;
}

std::unique_ptr<SharedMemoryBlock> ShmPool::Allocate(uint64_t size, uint64_t aligned_at) {
  if (size == 0 || size > options_.region_bytes) return nullptr;
  MutexLock lock(&mu_);
  const std::size_t count = regions_.size();
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t index = (current_ + i) % count;
    Region& region = *regions_[index];
    if (auto offset = Place(region, size, aligned_at)) {
      current_ = index;
      return std::make_unique<Block>(shared_from_this(), &region, *offset, size);
    }
  }
  if (count >= static_cast<std::size_t>(options_.max_regions)) return nullptr;
  auto memory = ShmRegion::Create(options_.name, options_.region_bytes);
  if (!memory.ok()) {
    spdlog::warn("{}: no new shared-memory region: {}", options_.name, memory.status().message());
    return nullptr;
  }
  regions_.push_back(std::make_unique<Region>(
      Region{.memory = std::move(*memory), .id = next_region_id.fetch_add(1)}));
  current_ = count;
  Region& region = *regions_.back();
  auto offset = Place(region, size, aligned_at);
  if (!offset) return nullptr;  // only when `aligned_at` pushes a region-sized block over
  return std::make_unique<Block>(shared_from_this(), &region, *offset, size);
}

void ShmPool::Release(Region* region) {
  MutexLock lock(&mu_);
  --region->live;
}

int ShmPool::region_count() const {
  MutexLock lock(&mu_);
  return static_cast<int>(regions_.size());
}

}  // namespace switchyard::ipc
