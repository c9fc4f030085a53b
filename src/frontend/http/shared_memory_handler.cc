#include "frontend/http/shared_memory_handler.h"

#include <simdjson.h>

#include "fmt/format.h"
#include "frontend/http/admin_token.h"
#include "frontend/http/json_writer.h"

namespace switchyard::http {
namespace {

std::string StatusJson(const std::vector<SharedMemoryRegionInfo>& regions) {
  std::string body;
  JsonWriter writer(&body);
  writer.StartArray();
  for (const SharedMemoryRegionInfo& region : regions) {
    writer.StartObject();
    writer.Member("name", region.name);
    writer.Member("key", region.key);
    writer.UintMember("offset", region.offset);
    writer.UintMember("byte_size", region.byte_size);
    writer.EndObject();
  }
  writer.EndArray();
  return body;
}

// A JSON member that must be a non-negative integer; `fallback` when absent (nullopt: required).
StatusOr<uint64_t> GetSize(simdjson::dom::object body, std::string_view key,
                           std::optional<uint64_t> fallback) {
  simdjson::dom::element value;
  if (body.at_key(key).get(value) != simdjson::SUCCESS) {
    if (fallback) return *fallback;
    return InvalidArgument(fmt::format("register: '{}' is required", key));
  }
  uint64_t number = 0;
  if (value.get_uint64().get(number) != simdjson::SUCCESS) {
    return InvalidArgument(fmt::format("register: '{}' must be a non-negative integer", key));
  }
  return number;
}

}  // namespace

void SharedMemoryHandler::Handle(const HttpRequest& request, std::string_view rest,
                                 const ReplyFn& reply) const {
  if (registry_ == nullptr) {
    HttpReply off = ErrorReply(FailedPrecondition(
        "system shared memory is off on this server; start it with --allow-shared-memory"));
    off.status = 403;
    return reply(std::move(off));
  }
  if (auto refused = RefuseWithoutToken(request, admin_token_, "system shared-memory API")) {
    return reply(std::move(*refused));
  }
  // rest: "[/region/{name}]/{action}"
  std::optional<std::string_view> name;
  constexpr std::string_view kRegion = "/region/";
  if (rest.starts_with(kRegion)) {
    rest.remove_prefix(kRegion.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) {
      return reply(ErrorReply(NotFound("expected /v2/systemsharedmemory/region/{name}/{action}")));
    }
    name = rest.substr(0, slash);
    rest.remove_prefix(slash);
  }
  if (rest == "/status") {
    if (!Expect(Method::kGet, request, reply)) return;
    auto regions = registry_->List(name);
    return reply(regions.ok() ? JsonReply(StatusJson(*regions)) : ErrorReply(regions.status()));
  }
  if (rest == "/register" && name) {
    if (!Expect(Method::kPost, request, reply)) return;
    return Register(request, *name, reply);
  }
  if (rest == "/unregister") {
    if (!Expect(Method::kPost, request, reply)) return;
    if (!name) {
      registry_->UnregisterAll();
      return reply(JsonReply("{}"));
    }
    Status status = registry_->Unregister(*name);
    return reply(status.ok() ? JsonReply("{}") : ErrorReply(status));
  }
  reply(ErrorReply(NotFound(
      "no such shared-memory call (expected [region/{name}/]status, region/{name}/register or "
      "[region/{name}/]unregister)")));
}

void SharedMemoryHandler::Register(const HttpRequest& request, std::string_view name,
                                   const ReplyFn& reply) const {
  simdjson::dom::parser parser;
  simdjson::dom::object body;
  if (parser.parse(request.body.view()).get(body) != simdjson::SUCCESS) {
    return reply(ErrorReply(InvalidArgument(
        "register: the body must be a JSON object {\"key\", \"offset\", \"byte_size\"}")));
  }
  SharedMemoryRegionInfo info;
  info.name = name;
  std::string_view key;
  if (body["key"].get(key) != simdjson::SUCCESS) {
    return reply(ErrorReply(InvalidArgument("register: 'key' (a string) is required")));
  }
  info.key = key;
  auto offset = GetSize(body, "offset", 0);
  auto byte_size = GetSize(body, "byte_size", std::nullopt);
  if (!offset.ok()) return reply(ErrorReply(offset.status()));
  if (!byte_size.ok()) return reply(ErrorReply(byte_size.status()));
  info.offset = *offset;
  info.byte_size = *byte_size;
  Status status = registry_->Register(info);
  reply(status.ok() ? JsonReply("{}") : ErrorReply(status));
}

}  // namespace switchyard::http
