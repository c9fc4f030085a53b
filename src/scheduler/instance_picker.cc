#include "scheduler/instance_picker.h"

#include <vector>

namespace switchyard {
namespace {

// Picks the free instance with the smallest key; ties go to the first one after the previous
// pick, so equal instances share the work.
class KeyedPicker : public InstancePicker {
 public:
  int Pick(std::span<const InstanceLoad> loads, int64_t items) override {
    int best = -1;
    double best_key = 0;
    std::size_t n = loads.size();
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t i = (cursor_ + k) % n;
      if (!loads[i].free) continue;
      double key = Key(loads[i], items);
      if (best < 0 || key < best_key) {
        best = static_cast<int>(i);
        best_key = key;
      }
    }
    if (best >= 0) cursor_ = static_cast<std::size_t>(best) + 1;
    return best;
  }

 protected:
  virtual double Key(const InstanceLoad& load, int64_t items) const = 0;

 private:
  std::size_t cursor_ = 0;
};

// Smallest expected completion: what it still has to do plus this batch's service time.
class FastestPicker final : public KeyedPicker {
  double Key(const InstanceLoad& load, int64_t items) const override {
    Duration service = load.service != nullptr ? load.service->Estimate(items) : Duration(0);
    return static_cast<double>((load.busy_remaining + service).count());
  }
};

class LeastOutstandingPicker final : public KeyedPicker {
  double Key(const InstanceLoad& load, int64_t) const override {
    return static_cast<double>(load.outstanding_items);
  }
};

// Power of two choices: two free instances at random, the one with less outstanding work.
class PowerOfTwoPicker final : public InstancePicker {
 public:
  explicit PowerOfTwoPicker(uint64_t seed) : rng_(seed) {}
  int Pick(std::span<const InstanceLoad> loads, int64_t) override {
    std::vector<int> free;
    for (std::size_t i = 0; i < loads.size(); ++i) {
      if (loads[i].free) free.push_back(static_cast<int>(i));
    }
    if (free.empty()) return -1;
    if (free.size() == 1) return free[0];
    std::uniform_int_distribution<std::size_t> any(0, free.size() - 1);
    std::size_t a = any(rng_);
    std::size_t b = any(rng_);
    while (b == a) b = any(rng_);
    int x = free[a];
    int y = free[b];
    return loads[static_cast<std::size_t>(y)].outstanding_items <
                   loads[static_cast<std::size_t>(x)].outstanding_items
               ? y
               : x;
  }

 private:
  std::mt19937_64 rng_;
};

// Binds request k to instance k mod n at arrival; an instance's batches are cut only from the
// requests bound to it. Among free instances, the one with the most bound work goes first.
class RoundRobinPicker final : public KeyedPicker {
 public:
  int BindOnArrival(std::size_t instance_count) override {
    return static_cast<int>(next_++ % instance_count);
  }

 private:
  double Key(const InstanceLoad& load, int64_t) const override {
    return -static_cast<double>(load.pending_items);
  }
  uint64_t next_ = 0;
};

}  // namespace

std::unique_ptr<InstancePicker> MakeInstancePicker(RoutingPolicy policy, uint64_t seed) {
  switch (policy) {
    case RoutingPolicy::kFastest:
      return std::make_unique<FastestPicker>();
    case RoutingPolicy::kLeastOutstanding:
      return std::make_unique<LeastOutstandingPicker>();
    case RoutingPolicy::kPowerOfTwo:
      return std::make_unique<PowerOfTwoPicker>(seed);
    case RoutingPolicy::kRoundRobin:
      return std::make_unique<RoundRobinPicker>();
  }
  return std::make_unique<FastestPicker>();
}

}  // namespace switchyard
