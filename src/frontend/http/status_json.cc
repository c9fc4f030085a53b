#include "frontend/http/status_json.h"

#include "frontend/http/json_writer.h"

namespace switchyard::http {
namespace {

void WriteDevices(JsonWriter& w, const ServerStatus& status) {
  w.Key("devices");
  w.StartArray();
  for (const DeviceStatus& d : status.devices) {
    w.StartObject();
    w.IntMember("index", d.index);
    w.Member("uuid", d.uuid);
    w.Member("name", d.name);
    w.BoolMember("simulated", d.simulated);
    w.DoubleMember("speed", d.speed);
    w.IntMember("total_mb", d.total_mb);
    w.IntMember("used_by_others_mb", d.used_by_others_mb);
    w.IntMember("reserve_mb", d.reserve_mb);
    w.IntMember("planned_mb", d.planned_mb);
    w.Key("instances");
    w.StartArray();
    for (const auto& name : d.instances) w.String(name);
    w.EndArray();
    w.Member("health", d.health);
    w.Member("health_detail", d.health_detail);
    w.EndObject();
  }
  w.EndArray();
}

void WriteInstance(JsonWriter& w, const InstanceStatus& i) {
  w.StartObject();
  w.Member("name", i.name);
  w.Member("device", i.device);
  w.Member("state", i.state);
  w.Member("isolation", i.isolation);
  w.IntMember("pid", i.pid);
  w.IntMember("restarts", i.restarts);
  w.Member("last_error", i.last_error);
  w.Member("drained", i.drained);
  w.UintMember("input_bytes_copied", i.input_bytes_copied);
  w.UintMember("input_bytes_in_place", i.input_bytes_in_place);
  w.UintMember("output_bytes_copied", i.output_bytes_copied);
  w.UintMember("output_bytes_in_place", i.output_bytes_in_place);
  w.UintMember("backend_batches", i.backend_batches);
  w.UintMember("backend_execute_us", i.backend_execute_us);
  w.IntMember("inflight_batches", i.inflight_batches);
  w.IntMember("outstanding_items", i.outstanding_items);
  w.UintMember("batches", i.batches);
  w.UintMember("items", i.items);
  w.DoubleMember("average_batch_ms", i.average_batch_ms);
  w.EndObject();
}

void WriteModel(JsonWriter& w, const ModelStatus& m) {
  w.StartObject();
  w.Member("name", m.name);
  w.Member("version", std::to_string(m.version));
  w.Member("state", m.state);
  w.Member("reason", m.reason);
  w.Member("routing", m.routing);
  w.IntMember("max_batch_size", m.max_batch_size);
  w.IntMember("vram_need_mb", m.vram_need_mb);
  w.Member("vram_need", m.vram_need);
  w.Key("instances");
  w.StartArray();
  for (const auto& instance : m.instances) WriteInstance(w, instance);
  w.EndArray();
  w.Key("queue");
  w.StartObject();
  uint64_t depth = 0;
  for (uint64_t d : m.queue_depth_by_priority) depth += d;
  w.UintMember("depth", depth);
  w.Key("depth_by_priority");
  w.StartArray();
  for (uint64_t d : m.queue_depth_by_priority) w.Uint(d);
  w.EndArray();
  w.IntMember("max_size", m.queue_max_size);
  w.DoubleMember("oldest_wait_ms", m.oldest_wait_ms);
  w.EndObject();
  w.EndObject();
}

}  // namespace

std::string ServerStatusJson(const ServerStatus& status) {
  std::string out;
  JsonWriter w(&out);
  w.StartObject();
  w.BoolMember("live", status.live);
  w.BoolMember("ready", status.ready);
  WriteDevices(w, status);
  w.Key("models");
  w.StartArray();
  for (const auto& model : status.models) WriteModel(w, model);
  w.EndArray();
  w.EndObject();
  return out;
}

std::string DevicesJson(const ServerStatus& status) {
  std::string out;
  JsonWriter w(&out);
  w.StartObject();
  WriteDevices(w, status);
  w.EndObject();
  return out;
}

}  // namespace switchyard::http
