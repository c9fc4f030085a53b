#include "bench/instance_stats.h"

#include "fmt/format.h"
#include "simdjson.h"

namespace switchyard::bench {
namespace {

Status Malformed(std::string_view what) {
  return InvalidArgument(fmt::format("status document: {}", what));
}

StatusOr<InstanceCounters> ParseInstance(simdjson::dom::element element) {
  simdjson::dom::object object;
  std::string_view name;
  std::string_view device;
  InstanceCounters counters;
  if (element.get_object().get(object) != simdjson::SUCCESS ||
      object["name"].get_string().get(name) != simdjson::SUCCESS ||
      object["device"].get_string().get(device) != simdjson::SUCCESS ||
      object["batches"].get_uint64().get(counters.batches) != simdjson::SUCCESS ||
      object["items"].get_uint64().get(counters.items) != simdjson::SUCCESS) {
    return Malformed("an instance lacks name, device, batches or items");
  }
  counters.name = std::string(name);
  counters.device = std::string(device);
  return counters;
}

uint64_t Minus(uint64_t after, uint64_t before) { return after >= before ? after - before : 0; }

}  // namespace

StatusOr<std::vector<InstanceCounters>> ParseInstanceCounters(std::string_view status_json,
                                                              std::string_view model) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(status_json);
  simdjson::dom::array models;
  if (parser.parse(padded)["models"].get_array().get(models) != simdjson::SUCCESS) {
    return Malformed("not JSON with a 'models' array");
  }
  for (simdjson::dom::element entry : models) {
    std::string_view name;
    if (entry["name"].get_string().get(name) != simdjson::SUCCESS) {
      return Malformed("a model has no name");
    }
    if (name != model) continue;
    simdjson::dom::array instances;
    if (entry["instances"].get_array().get(instances) != simdjson::SUCCESS) {
      return Malformed(fmt::format("model '{}' has no 'instances' array", model));
    }
    std::vector<InstanceCounters> result;
    for (simdjson::dom::element instance : instances) {
      ASSIGN_OR_RETURN(InstanceCounters counters, ParseInstance(instance));
      result.push_back(std::move(counters));
    }
    return result;
  }
  return Malformed(fmt::format("no model '{}'", model));
}

std::vector<InstanceCounters> InstanceDelta(const std::vector<InstanceCounters>& before,
                                            const std::vector<InstanceCounters>& after) {
  std::vector<InstanceCounters> delta;
  for (const InstanceCounters& now : after) {
    InstanceCounters d = now;
    for (const InstanceCounters& then : before) {
      if (then.name != now.name) continue;
      d.batches = Minus(now.batches, then.batches);
      d.items = Minus(now.items, then.items);
      break;
    }
    delta.push_back(std::move(d));
  }
  return delta;
}

}  // namespace switchyard::bench
