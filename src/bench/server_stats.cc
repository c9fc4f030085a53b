#include "bench/server_stats.h"

#include <string>

#include "fmt/format.h"
#include "simdjson.h"

namespace switchyard::bench {
namespace {

Status Malformed(std::string_view what) {
  return InvalidArgument(fmt::format("statistics document: {}", what));
}

StatusOr<uint64_t> GetCount(simdjson::dom::object object, std::string_view key) {
  uint64_t value = 0;
  if (object[key].get_uint64().get(value) != simdjson::SUCCESS) {
    return Malformed(fmt::format("'{}' is missing or not a non-negative integer", key));
  }
  return value;
}

StatusOr<DurationStat> GetDuration(simdjson::dom::object stats, std::string_view key) {
  simdjson::dom::object duration;
  if (stats[key].get_object().get(duration) != simdjson::SUCCESS) {
    return Malformed(fmt::format("inference_stats.{} is missing", key));
  }
  DurationStat result;
  ASSIGN_OR_RETURN(result.count, GetCount(duration, "count"));
  ASSIGN_OR_RETURN(result.ns, GetCount(duration, "ns"));
  return result;
}

void Add(DurationStat& sum, const DurationStat& part) {
  sum.count += part.count;
  sum.ns += part.ns;
}

uint64_t Minus(uint64_t after, uint64_t before) { return after >= before ? after - before : 0; }

double PerRequestUs(const DurationStat& before, const DurationStat& after) {
  uint64_t count = Minus(after.count, before.count);
  if (count == 0) return 0;
  return static_cast<double>(Minus(after.ns, before.ns)) / 1e3 / static_cast<double>(count);
}

}  // namespace

StatusOr<StatsSnapshot> ParseModelStats(std::string_view json, std::string_view model) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::array entries;
  if (parser.parse(padded)["model_stats"].get_array().get(entries) != simdjson::SUCCESS) {
    return Malformed("not JSON with a 'model_stats' array");
  }
  StatsSnapshot sum;
  bool found = false;
  for (simdjson::dom::element entry : entries) {
    simdjson::dom::object object;
    std::string_view name;
    if (entry.get_object().get(object) != simdjson::SUCCESS ||
        object["name"].get_string().get(name) != simdjson::SUCCESS) {
      return Malformed("an entry of 'model_stats' has no name");
    }
    if (name != model) continue;
    found = true;
    simdjson::dom::object stats;
    if (object["inference_stats"].get_object().get(stats) != simdjson::SUCCESS) {
      return Malformed("'inference_stats' is missing");
    }
    ASSIGN_OR_RETURN(uint64_t inferences, GetCount(object, "inference_count"));
    ASSIGN_OR_RETURN(uint64_t executions, GetCount(object, "execution_count"));
    ASSIGN_OR_RETURN(DurationStat success, GetDuration(stats, "success"));
    ASSIGN_OR_RETURN(DurationStat queue, GetDuration(stats, "queue"));
    ASSIGN_OR_RETURN(DurationStat compute_infer, GetDuration(stats, "compute_infer"));
    sum.inference_count += inferences;
    sum.execution_count += executions;
    Add(sum.success, success);
    Add(sum.queue, queue);
    Add(sum.compute_infer, compute_infer);
  }
  if (!found) return Malformed(fmt::format("no entry for model '{}'", model));
  return sum;
}

ServerSplit StatsDelta(const StatsSnapshot& before, const StatsSnapshot& after) {
  ServerSplit split;
  split.requests = Minus(after.success.count, before.success.count);
  split.items = Minus(after.inference_count, before.inference_count);
  split.executions = Minus(after.execution_count, before.execution_count);
  split.queue_us = PerRequestUs(before.queue, after.queue);
  split.compute_infer_us = PerRequestUs(before.compute_infer, after.compute_infer);
  return split;
}

}  // namespace switchyard::bench
