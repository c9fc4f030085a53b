#include "instance/cancel_relay.h"

#include <atomic>
#include <utility>

#include "plugin/batch_access.h"

namespace switchyard {
namespace {

void Write(std::byte* flags, std::size_t index, SyCancelState state) {
  std::atomic_ref<std::byte>(flags[index])
      .store(static_cast<std::byte>(state), std::memory_order_release);
}

}  // namespace

std::shared_ptr<CancelRelay> CancelRelay::Create(std::span<InferRequest* const> requests) {
  std::shared_ptr<CancelRelay> relay(new CancelRelay());
  {
    MutexLock lock(&relay->mu_);
    relay->states_.assign(requests.size(), SY_NOT_CANCELLED);
    for (InferRequest* request : requests) relay->tokens_.push_back(request->cancel);
  }
  // Outside the lock: a token that already fired runs its notifier (Mark) at once.
  for (std::size_t i = 0; i < requests.size(); ++i) {
    CancelToken* token = requests[i]->cancel.get();
    if (token == nullptr) continue;
    // The notifier runs inside the token's Cancel or Expire (or SetNotifier), so `token` is
    // alive then; the weak pointer lets the relay go before its tokens do.
    token->SetNotifier([weak = relay->weak_from_this(), i, token] {
      if (auto self = weak.lock()) self->Mark(i, plugin::CancelStateOf(token));
    });
  }
  return relay;
}

void CancelRelay::SetFlags(std::byte* flags) {
  MutexLock lock(&mu_);
  if (stopped_) return;
  flags_ = flags;
  for (std::size_t i = 0; i < states_.size(); ++i) {
    if (states_[i] != SY_NOT_CANCELLED) Write(flags_, i, states_[i]);
  }
}

void CancelRelay::Mark(std::size_t index, SyCancelState state) {
  MutexLock lock(&mu_);
  if (stopped_ || index >= states_.size()) return;
  states_[index] = state;
  if (flags_ != nullptr) Write(flags_, index, state);
}

void CancelRelay::Stop() {
  std::vector<std::shared_ptr<CancelToken>> tokens;
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    flags_ = nullptr;
    tokens = std::move(tokens_);
  }
  for (const auto& token : tokens) {
    if (token) token->SetNotifier(nullptr);
  }
}

}  // namespace switchyard
