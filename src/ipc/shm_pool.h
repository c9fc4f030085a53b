#pragma once
// ShmPool: blocks of shared memory that a peer process maps once per region, so that tensors
// cross between the server and a worker without being copied. Two uses:
//  - request bodies: the server receives a model's large infer requests into its pool, and the
//    model's workers read the inputs there (TensorRef::region of an Execute);
//  - outputs: a worker allocates a batch's outputs in its own pool, and the server writes them to
//    the client from there (TensorRef::region of a Result) before it lets them go.
//
// Regions are memfds of `region_bytes`, made when needed up to `max_regions` and kept for the
// pool's life (their pages stay resident once touched: the pool's memory is bounded by
// region_bytes * max_regions). A region hands out blocks by bumping an offset and starts over
// once every block it gave has come back; blocks live about as long as a request, so this stays
// simple without fragmenting for long. When no region has room, Allocate says so and the caller
// uses ordinary memory.
//
// Thread-safety: every method from any thread. A block keeps the pool (and its region) alive.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "ipc/shm_region.h"
#include "switchyard/request_body.h"

namespace switchyard::ipc {

struct ShmPoolOptions {
  std::string name = "switchyard-pool";  // memfd name, for /proc/<pid>/fd (at most 249 bytes)
  uint64_t region_bytes = 32u << 20;     // bytes per region; the largest block. Default 32 MiB
  int max_regions = 8;                   // regions at most. Default 8 (256 MiB in all)
};

class ShmPool : public std::enable_shared_from_this<ShmPool> {
 public:
  static std::shared_ptr<ShmPool> Create(ShmPoolOptions options);

  // Blocks are placed so that their byte `aligned_at` lies at a multiple of 64 in the region (a
  // body's binary tensors then start aligned when `aligned_at` is its JSON header's length).
  static constexpr uint64_t kAlignment = 64;

  // A block of `size` bytes, or null when `size` is 0 or more than a region, when every region
  // is busy, or when a new region cannot be made (logged).
  std::unique_ptr<SharedMemoryBlock> Allocate(uint64_t size, uint64_t aligned_at = 0) EXCLUDES(mu_);

  // Regions made so far.
  int region_count() const EXCLUDES(mu_);

 private:
  struct Region {
    ShmRegion memory;
    uint32_t id = 0;
    uint64_t used = 0;  // guarded by the pool's mu_
    int live = 0;       // blocks given and not back; guarded by the pool's mu_
  };
  class Block;

  explicit ShmPool(ShmPoolOptions options) : options_(std::move(options)) {}
  // Bump-allocates in `region`; nullopt if the block does not fit.
  std::optional<uint64_t> Place(Region& region, uint64_t size, uint64_t aligned_at) REQUIRES(mu_);
  void Release(Region* region) EXCLUDES(mu_);

  const ShmPoolOptions options_;
  mutable Mutex mu_;
  // Never shrinks: blocks point at regions by address.
  std::vector<std::unique_ptr<Region>> regions_ GUARDED_BY(mu_);
  std::size_t current_ GUARDED_BY(mu_) = 0;  // where the last block went
};

}  // namespace switchyard::ipc
