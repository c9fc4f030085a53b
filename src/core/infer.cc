#include "switchyard/infer.h"

#include "fmt/format.h"

namespace switchyard {

void CancelToken::Cancel() {
  if (!cancelled_.exchange(true, std::memory_order_acq_rel)) Notify();
}

void CancelToken::Expire() {
  if (!expired_.exchange(true, std::memory_order_acq_rel)) Notify();
}

void CancelToken::Notify() {
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
    if (!cancelled() && !expired()) {
      notifier_ = std::move(notifier);
      return;
    }
  }
  if (notifier) notifier();
}

Status AddRequestParameter(InferRequest& request, std::string key, std::string value) {
  if (request.parameters.size() >= kMaxRequestParameters) {
    return InvalidArgument(fmt::format("parameter '{}': a request takes at most {} parameters",
                                       key.substr(0, 64), kMaxRequestParameters));
  }
  if (key.size() > kMaxRequestParameterKeyBytes) {
    return InvalidArgument(fmt::format("parameter '{}...': a name takes at most {} bytes",
                                       key.substr(0, 64), kMaxRequestParameterKeyBytes));
  }
  if (value.size() > kMaxRequestParameterValueBytes) {
    return InvalidArgument(fmt::format("parameter '{}': a value takes at most {} bytes", key,
                                       kMaxRequestParameterValueBytes));
  }
  request.parameters.emplace_back(std::move(key), std::move(value));
  return Status::Ok();
}

}  // namespace switchyard
