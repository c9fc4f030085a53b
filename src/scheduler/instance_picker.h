#pragma once
// Routing: which instance takes the next batch. One implementation per `routing:` policy,
// made by MakeInstancePicker. A picker sees a snapshot of every instance's load and chooses
// among those with a free slot. Not thread-safe: the scheduler calls it under its lock.

#include <cstdint>
#include <memory>
#include <random>
#include <span>

#include "scheduler/service_time.h"
#include "switchyard/clock.h"
#include "switchyard/model_config.h"

namespace switchyard {

struct InstanceLoad {
  bool free = false;              // has a free slot and queued work it may take
  int64_t pending_items = 0;      // queued items it may take
  int64_t outstanding_items = 0;  // items in its in-flight batches
  Duration busy_remaining{0};     // estimated time until its in-flight batches finish
  const ServiceTimeEstimate* service = nullptr;  // its measured service times
};

class InstancePicker {
 public:
  virtual ~InstancePicker() = default;

  // The free instance that should take a batch of `items` items, or -1 if none is free.
  virtual int Pick(std::span<const InstanceLoad> loads, int64_t items) = 0;

  // round_robin binds each request to an instance when it arrives, whatever the load (the
  // common design, kept as the baseline). Others return -1: the request waits unbound.
  virtual int BindOnArrival(std::size_t /*instance_count*/) { return -1; }
};

// `seed` feeds p2c's random choices.
std::unique_ptr<InstancePicker> MakeInstancePicker(RoutingPolicy policy, uint64_t seed);

}  // namespace switchyard
