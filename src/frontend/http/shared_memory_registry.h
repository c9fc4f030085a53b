#pragma once
// The system shared-memory extension's regions: POSIX shared-memory objects (shm_open keys) that
// co-located clients create and register by name, so that an infer request names where its
// input tensors lie, and where its outputs should go, instead of carrying their bytes.
//
// Trust: a registered region is mapped read-write into the server. A client that can register
// one can make the server read or write any shared-memory object the server's user may open.
// That is why the extension is off unless the operator starts the server with
// --allow-shared-memory, and why its calls need the admin token when one is configured (or come
// from this machine when none is). A client that truncates its object while registered does not
// end the server: the mapping is guarded (FaultGuard), reads past the object's end see zeros, and
// the region is refused from then on (FailedPrecondition: unregister and register it again).
//
// Thread-safety: every method may be called from any thread. A span handed out by Find stays
// valid (mapped) while its keeper lives, even if the region is unregistered meanwhile.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"
#include "switchyard/status.h"

namespace switchyard::http {

struct SharedMemoryRegionInfo {
  std::string name;
  std::string key;      // the shm_open name, e.g. "/input0"
  uint64_t offset = 0;  // where the region starts in the object, bytes
  uint64_t byte_size = 0;
};

class FaultGuard;

// Bytes of a registered region, kept mapped by `keeper`. `guard` (valid while `keeper` lives)
// tells whether the region's object was truncated under it (then the bytes read as zeros and
// what is written there is lost).
struct SharedMemorySpan {
  std::span<std::byte> bytes;
  std::shared_ptr<const void> keeper;
  const FaultGuard* guard = nullptr;
};

// The error for a region whose object was truncated while registered; `field` prefixes it.
Status Truncated(std::string_view field, std::string_view region);

class SharedMemoryRegistry {
 public:
  static constexpr std::size_t kMaxRegions = 256;
  static constexpr std::size_t kMaxNameLength = 128;

  SharedMemoryRegistry() = default;
  SharedMemoryRegistry(const SharedMemoryRegistry&) = delete;
  SharedMemoryRegistry& operator=(const SharedMemoryRegistry&) = delete;

  // Opens `info.key` read-write and maps [offset, offset + byte_size) of it.
  // Errors: InvalidArgument for a name that is empty, longer than kMaxNameLength or not made of
  // [A-Za-z0-9_.-], a key that is not "/" followed by 1-254 characters without "/", a byte_size
  // of 0, or a range past the object's end; NotFound when no object has that key (or it cannot
  // be opened read-write: the message has the system's reason); AlreadyExists for a name that is
  // registered; FailedPrecondition when kMaxRegions are registered.
  Status Register(const SharedMemoryRegionInfo& info);

  // NotFound when `name` is not registered. Requests already holding its bytes keep them.
  Status Unregister(std::string_view name);
  void UnregisterAll();

  // Every region (by name), or the one named. NotFound for an unknown name.
  StatusOr<std::vector<SharedMemoryRegionInfo>> List(std::optional<std::string_view> name) const;

  // The registered regions' count and bytes as Prometheus text (gauges
  // switchyard_shared_memory_regions and switchyard_shared_memory_bytes), ending in a newline.
  std::string MetricsText() const;

  // `byte_size` bytes at `offset` in region `name`. Errors: NotFound for an unknown region,
  // InvalidArgument for a range past its end, FailedPrecondition for a region whose object was
  // truncated (Truncated). `field` prefixes the messages.
  StatusOr<SharedMemorySpan> Find(std::string_view name, uint64_t offset, uint64_t byte_size,
                                  std::string_view field) const;

 private:
  struct Region;

  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<const Region>, std::less<>> regions_ GUARDED_BY(mu_);
};

}  // namespace switchyard::http
