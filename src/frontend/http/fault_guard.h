#pragma once
// Keeps a fault in memory that another process controls from ending the server. A registered
// shared-memory region is a MAP_SHARED mapping of a client's object; when the client truncates
// the object, touching the mapping past the object's new end raises SIGBUS. For a guarded
// mapping, the SIGBUS handler replaces the whole mapping with zero-filled private memory (the
// faulting access is then retried and succeeds) and marks the guard faulted, so the region can be
// refused from then on (the technique display servers use for their clients' shm pools). A
// SIGBUS anywhere else goes on to the handler installed before (or the default action, which
// ends the process), as without the guard.
//
// Thread-safety: Guard and the destructor from any thread; faulted() from any thread; the
// handler is async-signal-safe (a lock-free table and one mmap call).

#include <cstddef>
#include <memory>

namespace switchyard::http {

class FaultGuard {
 public:
  // Mappings that may be guarded at once (registered regions, and unregistered ones still held
  // by requests).
  static constexpr std::size_t kMaxGuarded = 1024;

  // Guards [mapping, mapping + size) (REQUIRES: a page-aligned mapping of that size, unmapped only
  // after the guard is destroyed). Null when kMaxGuarded mappings are guarded already.
  static std::unique_ptr<FaultGuard> Guard(void* mapping, std::size_t size);
  ~FaultGuard();  // stops guarding; the caller unmaps afterwards
  FaultGuard(const FaultGuard&) = delete;
  FaultGuard& operator=(const FaultGuard&) = delete;

  // Whether a fault replaced the mapping with zeros.
  bool faulted() const;

 private:
  explicit FaultGuard(std::size_t slot) : slot_(slot) {}
  const std::size_t slot_;
};

}  // namespace switchyard::http
