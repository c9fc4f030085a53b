#include "switchyard/infer.h"

namespace switchyard {

void CancelToken::Cancel() {
  if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
  std::function<void()> notifier;
  {
    std::lock_guard<std::mutex> lock(mu_);
    notifier = std::move(notifier_);
  }
  if (notifier) notifier();
}

void CancelToken::SetNotifier(std::function<void()> notifier) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!cancelled()) {
      notifier_ = std::move(notifier);
      return;
    }
  }
  if (notifier) notifier();
}

}  // namespace switchyard
