#pragma once
// How a model's requests spread over its instances, from switchyard's GET /v2/status (not part
// of KServe v2: other servers answer 404 and the spread is left out). The load generator reads
// it before and after a measurement and reports the difference per instance.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/status.h"

namespace switchyard::bench {

// The cumulative counters of one instance.
struct InstanceCounters {
  std::string name;
  std::string device;  // as the server names it: "cpu", "GPU0", "GPU0+GPU1"
  uint64_t batches = 0;
  uint64_t items = 0;
};

// The instances of `model` in the status document's order. InvalidArgument if the JSON is
// malformed, an instance lacks a field, or no model of that name is listed.
StatusOr<std::vector<InstanceCounters>> ParseInstanceCounters(std::string_view status_json,
                                                              std::string_view model);

// `after` minus `before`, matched by instance name, in `after`'s order. An instance missing from
// `before` counts from 0; a counter that went backwards (the instance was replaced) counts as 0.
std::vector<InstanceCounters> InstanceDelta(const std::vector<InstanceCounters>& before,
                                            const std::vector<InstanceCounters>& after);

}  // namespace switchyard::bench
