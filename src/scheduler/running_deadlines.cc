#include "scheduler/running_deadlines.h"

#include <utility>

namespace switchyard {

void RunningDeadlines::Add(uint64_t batch_id, TimePoint deadline,
                           std::shared_ptr<CancelToken> token) {
  by_deadline_.emplace(deadline, Entry{batch_id, std::move(token)});
}

void RunningDeadlines::RemoveBatch(uint64_t batch_id) {
  std::erase_if(by_deadline_,
                [batch_id](const auto& item) { return item.second.batch_id == batch_id; });
}

std::vector<std::shared_ptr<CancelToken>> RunningDeadlines::TakeDue(TimePoint now) {
  std::vector<std::shared_ptr<CancelToken>> due;
  auto end = by_deadline_.upper_bound(now);
  for (auto it = by_deadline_.begin(); it != end; ++it) due.push_back(std::move(it->second.token));
  by_deadline_.erase(by_deadline_.begin(), end);
  return due;
}

TimePoint RunningDeadlines::Earliest() const {
  return by_deadline_.empty() ? TimePoint::max() : by_deadline_.begin()->first;
}

}  // namespace switchyard
