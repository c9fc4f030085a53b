#include "frontend/http/status_json.h"

#include "frontend/http/json_writer.h"

namespace switchyard::http {
namespace {

void WriteDevices(JsonWriter& w, const ServerStatus& status) {
  w.Key("devices");
  w.StartArray();
  for (const DeviceStatus& d : status.devices) {
    w.StartObject();
    w.Key("index");
    w.Int(d.index);
    w.Member("uuid", d.uuid);
    w.Member("name", d.name);
    w.Key("simulated");
    w.Bool(d.simulated);
    w.Key("speed");
    w.Double(d.speed);
    w.Key("total_mb");
    w.Int(d.total_mb);
    w.Key("used_by_others_mb");
    w.Int(d.used_by_others_mb);
    w.Key("reserve_mb");
    w.Int(d.reserve_mb);
    w.Key("planned_mb");
    w.Int(d.planned_mb);
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
  w.Key("pid");
  w.Int(i.pid);
  w.Key("restarts");
  w.Int(i.restarts);
  w.Member("last_error", i.last_error);
  w.Member("drained", i.drained);
  w.Key("input_bytes_copied");
  w.Uint(i.input_bytes_copied);
  w.Key("input_bytes_in_place");
  w.Uint(i.input_bytes_in_place);
  w.Key("output_bytes_copied");
  w.Uint(i.output_bytes_copied);
  w.Key("output_bytes_in_place");
  w.Uint(i.output_bytes_in_place);
  w.Key("backend_batches");
  w.Uint(i.backend_batches);
  w.Key("backend_execute_us");
  w.Uint(i.backend_execute_us);
  w.Key("inflight_batches");
  w.Int(i.inflight_batches);
  w.Key("outstanding_items");
  w.Int(i.outstanding_items);
  w.Key("batches");
  w.Uint(i.batches);
  w.Key("items");
  w.Uint(i.items);
  w.Key("average_batch_ms");
  w.Double(i.average_batch_ms);
  w.EndObject();
}

void WriteModel(JsonWriter& w, const ModelStatus& m) {
  w.StartObject();
  w.Member("name", m.name);
  w.Member("version", std::to_string(m.version));
  w.Member("state", m.state);
  w.Member("reason", m.reason);
  w.Member("routing", m.routing);
  w.Key("max_batch_size");
  w.Int(m.max_batch_size);
  w.Key("vram_need_mb");
  w.Int(m.vram_need_mb);
  w.Member("vram_need", m.vram_need);
  w.Key("instances");
  w.StartArray();
  for (const auto& instance : m.instances) WriteInstance(w, instance);
  w.EndArray();
  w.Key("queue");
  w.StartObject();
  uint64_t depth = 0;
  for (uint64_t d : m.queue_depth_by_priority) depth += d;
  w.Key("depth");
  w.Uint(depth);
  w.Key("depth_by_priority");
  w.StartArray();
  for (uint64_t d : m.queue_depth_by_priority) w.Uint(d);
  w.EndArray();
  w.Key("max_size");
  w.Int(m.queue_max_size);
  w.Key("oldest_wait_ms");
  w.Double(m.oldest_wait_ms);
  w.EndObject();
  w.EndObject();
}

}  // namespace

std::string ServerStatusJson(const ServerStatus& status) {
  std::string out;
  JsonWriter w(&out);
  w.StartObject();
  w.Key("live");
  w.Bool(status.live);
  w.Key("ready");
  w.Bool(status.ready);
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
