#pragma once
// The server's load as one number per question, without labels, for load balancers and
// scrapers that read the first series of a name (the Gateway API inference extension's endpoint
// picker does): requests queued, requests running, and the share of ready instances that are
// executing a batch. Computed from the models' scheduler snapshots when /metrics is read
// (ServerImpl::MetricsText: switchyard_server_queued_requests, _running_requests, _utilization).

#include <cstdint>

#include "scheduler/model_scheduler.h"

namespace switchyard {

struct ServerLoad {
  int64_t queued = 0;           // requests waiting in a model's queue
  int64_t running = 0;          // requests executing on an instance
  int64_t busy_instances = 0;   // ready instances with a batch in flight
  int64_t ready_instances = 0;  // instances that can take batches

  // Adds one model: its scheduler's snapshot and its requests executing.
  void Add(const SchedulerSnapshot& snapshot, int64_t running_requests);
  // busy / ready instances; 0 with no ready instance.
  double utilization() const;
};

}  // namespace switchyard
