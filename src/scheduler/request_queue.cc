#include "scheduler/request_queue.h"

#include <algorithm>

#include "fmt/format.h"

namespace switchyard {

RequestQueue::RequestQueue(int max_size, int priority_levels)
    : max_size_(max_size), levels_(static_cast<std::size_t>(priority_levels)) {}

Status RequestQueue::Push(QueuedRequest&& entry) {
  if (size_ >= static_cast<std::size_t>(max_size_)) {
    return ResourceExhausted(fmt::format("queue full ({} requests waiting)", size_));
  }
  int level = std::clamp(entry.level, 0, static_cast<int>(levels_.size()) - 1);
  pending_items_ += entry.items;
  ++size_;
  levels_[static_cast<std::size_t>(level)].push_back(std::move(entry));
  return Status::Ok();
}

void RequestQueue::PushFront(QueuedRequest&& entry) {
  int level = std::clamp(entry.level, 0, static_cast<int>(levels_.size()) - 1);
  pending_items_ += entry.items;
  ++size_;
  levels_[static_cast<std::size_t>(level)].push_front(std::move(entry));
}

std::vector<std::size_t> RequestQueue::DepthByLevel() const {
  std::vector<std::size_t> depth;
  for (const auto& level : levels_) depth.push_back(level.size());
  return depth;
}

void RequestQueue::Unbind(int instance) {
  for (auto& level : levels_) {
    for (auto& entry : level) {
      if (entry.instance == instance) entry.instance = -1;
    }
  }
}

int64_t RequestQueue::PendingItemsFor(int instance) const {
  if (instance < 0) return pending_items_;
  int64_t items = 0;
  for (const auto& level : levels_) {
    for (const auto& entry : level) {
      if (Eligible(entry, instance)) items += entry.items;
    }
  }
  return items;
}

const QueuedRequest* RequestQueue::Head(int instance) const {
  for (const auto& level : levels_) {
    for (const auto& entry : level) {
      if (Eligible(entry, instance)) return &entry;
    }
  }
  return nullptr;
}

TimePoint RequestQueue::HeadEnqueueTime(int instance) const {
  const QueuedRequest* head = Head(instance);
  return head != nullptr ? head->enqueue_time : TimePoint::max();
}

bool RequestQueue::HeadIsSolo(int instance) const {
  const QueuedRequest* head = Head(instance);
  return head != nullptr && head->solo;
}

std::optional<TimePoint> RequestQueue::EarliestDeadline() const {
  std::optional<TimePoint> earliest;
  for (const auto& level : levels_) {
    for (const auto& entry : level) {
      if (entry.deadline != TimePoint::max() && (!earliest || entry.deadline < *earliest)) {
        earliest = entry.deadline;
      }
    }
  }
  return earliest;
}

template <typename Pred>
std::vector<QueuedRequest> RequestQueue::TakeIf(Pred pred) {
  std::vector<QueuedRequest> taken;
  for (auto& level : levels_) {
    auto keep = std::stable_partition(level.begin(), level.end(),
                                      [&](const QueuedRequest& e) { return !pred(e); });
    for (auto it = keep; it != level.end(); ++it) {
      pending_items_ -= it->items;
      --size_;
      taken.push_back(std::move(*it));
    }
    level.erase(keep, level.end());
  }
  return taken;
}

std::vector<QueuedRequest> RequestQueue::TakeExpired(TimePoint now) {
  return TakeIf([now](const QueuedRequest& e) { return e.deadline <= now; });
}

std::vector<QueuedRequest> RequestQueue::TakeCancelled() {
  return TakeIf([](const QueuedRequest& e) {
    return e.request->cancel != nullptr && e.request->cancel->cancelled();
  });
}

std::vector<QueuedRequest> RequestQueue::TakeAll() {
  return TakeIf([](const QueuedRequest&) { return true; });
}

std::vector<QueuedRequest> RequestQueue::TakeBatch(int64_t max_items, int instance) {
  std::vector<QueuedRequest> batch;
  int64_t items = 0;
  for (auto& level : levels_) {
    for (auto it = level.begin(); it != level.end();) {
      if (!Eligible(*it, instance)) {
        ++it;
        continue;
      }
      int64_t next = it->items;
      if (!batch.empty() && (items + next > max_items || it->solo)) return batch;
      items += next;
      pending_items_ -= next;
      --size_;
      bool solo = it->solo;
      batch.push_back(std::move(*it));
      it = level.erase(it);
      if (solo) return batch;
    }
  }
  return batch;
}

}  // namespace switchyard
