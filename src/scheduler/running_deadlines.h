#pragma once
// The client deadlines of requests that are executing: when one passes, the scheduler expires
// the request's CancelToken, which tells its instance (the backend may stop the request).
// Thread-safety: none; the scheduler holds its lock around every call.

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "switchyard/clock.h"
#include "switchyard/infer.h"

namespace switchyard {

class RunningDeadlines {
 public:
  // Watches `token` until `deadline` (or until RemoveBatch(batch_id)).
  void Add(uint64_t batch_id, TimePoint deadline, std::shared_ptr<CancelToken> token);
  // Stops watching the requests of `batch_id` (it was answered).
  void RemoveBatch(uint64_t batch_id);
  // Removes and returns the tokens whose deadline is at or before `now`.
  std::vector<std::shared_ptr<CancelToken>> TakeDue(TimePoint now);
  // The earliest deadline watched; max when none is.
  TimePoint Earliest() const;
  bool empty() const { return by_deadline_.empty(); }

 private:
  struct Entry {
    uint64_t batch_id = 0;
    std::shared_ptr<CancelToken> token;
  };
  std::multimap<TimePoint, Entry> by_deadline_;
};

}  // namespace switchyard
