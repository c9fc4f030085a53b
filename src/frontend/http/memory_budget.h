#pragma once
// The server-wide budget for the memory that clients make the HTTP front end hold: request bodies
// as they are received and replies while they are written. A body is charged as its bytes
// arrive (never from the length a client claims), so a client must send what it makes the server
// keep; past the budget a new body is refused (503) instead of allocated. A reply is charged
// beyond the budget if need be (its request was accepted; it must be answered), which holds back
// new bodies until it is written.
//
// Thread-safety: MemoryBudget may be used from any thread; a MemoryCharge by one owner at a time.

#include <atomic>
#include <cstddef>

namespace switchyard::http {

class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t limit_bytes) : limit_(limit_bytes) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Charges `bytes` if the total stays within the limit; false (nothing charged) otherwise.
  bool TryCharge(std::size_t bytes);
  // Charges `bytes` whatever the total.
  void ForceCharge(std::size_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }
  // REQUIRES: `bytes` were charged and not yet released.
  void Release(std::size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  std::size_t used() const { return used_.load(std::memory_order_relaxed); }
  std::size_t limit() const { return limit_; }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> used_{0};
};

// What one connection holds of a budget; released in full by Clear or on destruction.
class MemoryCharge {
 public:
  explicit MemoryCharge(MemoryBudget* budget) : budget_(budget) {}
  ~MemoryCharge() { Clear(); }
  MemoryCharge(const MemoryCharge&) = delete;
  MemoryCharge& operator=(const MemoryCharge&) = delete;

  bool TryAdd(std::size_t bytes) {
    if (!budget_->TryCharge(bytes)) return false;
    bytes_ += bytes;
    return true;
  }
  void ForceAdd(std::size_t bytes) {
    budget_->ForceCharge(bytes);
    bytes_ += bytes;
  }
  void Clear() {
    budget_->Release(bytes_);
    bytes_ = 0;
  }
  std::size_t bytes() const { return bytes_; }

 private:
  MemoryBudget* const budget_;
  std::size_t bytes_ = 0;
};

}  // namespace switchyard::http
