#include "frontend/http/fault_guard.h"

#include <signal.h>
#include <sys/mman.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>

namespace switchyard::http {
namespace {

struct Slot {
  std::atomic<std::uintptr_t> begin{0};  // 0: free
  std::atomic<std::size_t> size{0};
  std::atomic<bool> faulted{false};
};

std::array<Slot, FaultGuard::kMaxGuarded> g_slots;
struct sigaction g_previous {};

void OnSigbus(int signal, siginfo_t* info, void* context) {
  const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
  for (Slot& slot : g_slots) {
    const std::uintptr_t begin = slot.begin.load(std::memory_order_acquire);
    const std::size_t size = slot.size.load(std::memory_order_acquire);
    if (begin == 0 || address < begin || address - begin >= size) continue;
    void* fresh = ::mmap(reinterpret_cast<void*>(begin), size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (fresh != MAP_FAILED) {
      slot.faulted.store(true, std::memory_order_release);
      return;  // the access is retried on the zeros
    }
    break;
  }
  // Not a guarded mapping: what would have happened without the guard.
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    return g_previous.sa_sigaction(signal, info, context);
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN &&
      g_previous.sa_handler != nullptr) {
    return g_previous.sa_handler(signal);
  }
  ::signal(SIGBUS, SIG_DFL);  // returning retries the access, which now ends the process
}

void InstallHandler() {
  struct sigaction action {};
  action.sa_sigaction = OnSigbus;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, &g_previous);
}

}  // namespace

std::unique_ptr<FaultGuard> FaultGuard::Guard(void* mapping, std::size_t size) {
  static std::once_flag installed;
  std::call_once(installed, InstallHandler);
  for (std::size_t i = 0; i < g_slots.size(); ++i) {
    Slot& slot = g_slots[i];
    std::uintptr_t expected = 0;
    // Claim with a placeholder first, so the handler never sees a begin without its size.
    if (!slot.begin.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) continue;
    slot.faulted.store(false, std::memory_order_relaxed);
    slot.size.store(size, std::memory_order_release);
    slot.begin.store(reinterpret_cast<std::uintptr_t>(mapping), std::memory_order_release);
    return std::unique_ptr<FaultGuard>(new FaultGuard(i));
  }
  return nullptr;
}

FaultGuard::~FaultGuard() {
  Slot& slot = g_slots[slot_];
  slot.size.store(0, std::memory_order_release);
  slot.begin.store(0, std::memory_order_release);
}

bool FaultGuard::faulted() const { return g_slots[slot_].faulted.load(std::memory_order_acquire); }

}  // namespace switchyard::http
