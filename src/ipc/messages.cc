#include "ipc/messages.h"

#include <fmt/format.h>

#include <utility>

#include "core/utf8.h"
#include "ipc/wire.h"
#include "switchyard/backend.h"
#include "switchyard/datatype.h"

namespace switchyard::ipc {
namespace {

// The last enumerators; Decode accepts the values up to these.
constexpr uint32_t kLastDataType = static_cast<uint32_t>(DataType::kBytes);
constexpr uint32_t kLastStatusCode = static_cast<uint32_t>(StatusCode::kAborted);

// Strings are cut to kMaxStringBytes, backing off to the start of a UTF-8 character.
void PutBoundedString(WireWriter& w, std::string_view value) {
  w.PutString(CutUtf8(value, kMaxStringBytes));
}

// Each wire type has a Put that writes its fields in declaration order and a Get that reads them
// back and validates them, side by side below. The element types of sequences are declared here
// for the sequence templates.
void Put(WireWriter& w, const TensorRef& t);
Status Get(WireReader& r, TensorRef* t);
void Put(WireWriter& w, const RequestRef& m);
Status Get(WireReader& r, RequestRef* m);
void Put(WireWriter& w, const std::pair<std::string, std::string>& p);
Status Get(WireReader& r, std::pair<std::string, std::string>* p);
void Put(WireWriter& w, const RequestResult& m);
Status Get(WireReader& r, RequestResult* m);
void Put(WireWriter& w, const PartialOutput& m);
Status Get(WireReader& r, PartialOutput* m);

// Sequences: a count, then the elements. The count is checked against both the cap and the bytes
// left (each element takes at least as many bytes as a default-constructed one) before anything
// is reserved.
template <typename T>
void PutList(WireWriter& w, const std::vector<T>& items) {
  w.PutCount(items.size());
  for (const T& item : items) Put(w, item);
}
template <typename T>
Status GetList(WireReader& r, std::size_t max_count, std::vector<T>* items) {
  static const std::size_t min_bytes = [] {
    WireWriter w;
    Put(w, T{});
    return w.bytes().size();
  }();
  ASSIGN_OR_RETURN(uint32_t count, r.ReadCount(max_count, min_bytes));
  items->clear();
  items->reserve(count);
  for (uint32_t i = 0; i < count; ++i) RETURN_IF_ERROR(Get(r, &items->emplace_back()));
  return Status::Ok();
}

void Put(WireWriter& w, const TensorRef& t) {
  w.PutU32(t.index);
  w.PutU32(t.datatype);
  w.PutI64Vector(t.shape);
  w.PutU32(t.region);
  w.PutU64(t.offset);
  w.PutU64(t.size);
}
Status Get(WireReader& r, TensorRef* t) {
  ASSIGN_OR_RETURN(t->index, r.ReadU32());
  ASSIGN_OR_RETURN(t->datatype, r.ReadU32());
  if (t->datatype > kLastDataType) {
    return InvalidArgument(fmt::format("ipc tensor has unknown datatype {}", t->datatype));
  }
  ASSIGN_OR_RETURN(t->shape, r.ReadI64Vector(kMaxDims));
  for (int64_t dim : t->shape) {
    if (dim < 0) return InvalidArgument(fmt::format("ipc tensor has negative dim {}", dim));
  }
  ASSIGN_OR_RETURN(t->region, r.ReadU32());
  ASSIGN_OR_RETURN(t->offset, r.ReadU64());
  ASSIGN_OR_RETURN(t->size, r.ReadU64());
  if (t->size > ~uint64_t{0} - t->offset) {
    return InvalidArgument(
        fmt::format("ipc tensor at offset {} of {} bytes overflows", t->offset, t->size));
  }
  return Status::Ok();
}

void Put(WireWriter& w, const RequestRef& m) {
  PutList(w, m.inputs);
  w.PutU64(m.requested_outputs);
  PutList(w, m.parameters);
  w.PutU8(m.takes_partials ? 1 : 0);
}
Status Get(WireReader& r, RequestRef* m) {
  RETURN_IF_ERROR(GetList(r, kMaxTensorsPerRequest, &m->inputs));
  ASSIGN_OR_RETURN(m->requested_outputs, r.ReadU64());
  RETURN_IF_ERROR(GetList(r, kMaxParameters, &m->parameters));
  ASSIGN_OR_RETURN(uint8_t takes_partials, r.ReadU8());
  if (takes_partials > 1) {
    return InvalidArgument(fmt::format("ipc request has takes_partials {}", takes_partials));
  }
  m->takes_partials = takes_partials == 1;
  return Status::Ok();
}

void Put(WireWriter& w, const PartialOutput& m) {
  w.PutU32(m.index);
  w.PutI64Vector(m.shape);
  w.PutString(m.bytes);
}
Status Get(WireReader& r, PartialOutput* m) {
  ASSIGN_OR_RETURN(m->index, r.ReadU32());
  ASSIGN_OR_RETURN(m->shape, r.ReadI64Vector(kMaxDims));
  for (int64_t dim : m->shape) {
    if (dim < 0) return InvalidArgument(fmt::format("ipc partial output has negative dim {}", dim));
  }
  ASSIGN_OR_RETURN(m->bytes, r.ReadString(SY_MAX_PARTIAL_RESPONSE_BYTES));
  return Status::Ok();
}

void Put(WireWriter& w, const std::pair<std::string, std::string>& p) {
  PutBoundedString(w, p.first);
  PutBoundedString(w, p.second);
}
Status Get(WireReader& r, std::pair<std::string, std::string>* p) {
  ASSIGN_OR_RETURN(p->first, r.ReadString(kMaxStringBytes));
  ASSIGN_OR_RETURN(p->second, r.ReadString(kMaxStringBytes));
  return Status::Ok();
}

void Put(WireWriter& w, const RequestResult& m) {
  w.PutU32(m.code);
  PutBoundedString(w, m.message);
  PutList(w, m.outputs);
}
Status Get(WireReader& r, RequestResult* m) {
  ASSIGN_OR_RETURN(m->code, r.ReadU32());
  if (m->code > kLastStatusCode) {
    return InvalidArgument(fmt::format("ipc result has unknown status code {}", m->code));
  }
  ASSIGN_OR_RETURN(m->message, r.ReadString(kMaxStringBytes));
  return GetList(r, kMaxTensorsPerRequest, &m->outputs);
}

void Put(WireWriter& w, const Hello& m) {
  w.PutI64(m.pid);
  w.PutU32(m.api_version);
}
Status Get(WireReader& r, Hello* m) {
  ASSIGN_OR_RETURN(m->pid, r.ReadI64());
  ASSIGN_OR_RETURN(m->api_version, r.ReadU32());
  return Status::Ok();
}

void Put(WireWriter& w, const Ready& m) { w.PutU64(m.device_memory_bytes); }
Status Get(WireReader& r, Ready* m) {
  ASSIGN_OR_RETURN(m->device_memory_bytes, r.ReadU64());
  return Status::Ok();
}

void Put(WireWriter& w, const LoadFailed& m) {
  w.PutU32(m.code);
  PutBoundedString(w, m.message);
}
Status Get(WireReader& r, LoadFailed* m) {
  ASSIGN_OR_RETURN(m->code, r.ReadU32());
  if (m->code > kLastStatusCode) {
    return InvalidArgument(fmt::format("ipc load failure has unknown status code {}", m->code));
  }
  ASSIGN_OR_RETURN(m->message, r.ReadString(kMaxStringBytes));
  return Status::Ok();
}

void Put(WireWriter& w, const Execute& m) {
  w.PutU64(m.batch_id);
  w.PutU32(m.slot);
  w.PutU64(m.slot_size);
  PutList(w, m.requests);
  w.PutU64(m.cancel_flags);
}
Status Get(WireReader& r, Execute* m) {
  ASSIGN_OR_RETURN(m->batch_id, r.ReadU64());
  ASSIGN_OR_RETURN(m->slot, r.ReadU32());
  ASSIGN_OR_RETURN(m->slot_size, r.ReadU64());
  RETURN_IF_ERROR(GetList(r, kMaxRequests, &m->requests));
  ASSIGN_OR_RETURN(m->cancel_flags, r.ReadU64());
  return Status::Ok();
}

void Put(WireWriter& w, const Result& m) {
  w.PutU64(m.batch_id);
  w.PutU32(m.slot);
  w.PutU64(m.slot_size);
  PutList(w, m.requests);
  w.PutU64(m.execute_ns);
}
Status Get(WireReader& r, Result* m) {
  ASSIGN_OR_RETURN(m->batch_id, r.ReadU64());
  ASSIGN_OR_RETURN(m->slot, r.ReadU32());
  ASSIGN_OR_RETURN(m->slot_size, r.ReadU64());
  RETURN_IF_ERROR(GetList(r, kMaxRequests, &m->requests));
  ASSIGN_OR_RETURN(m->execute_ns, r.ReadU64());
  return Status::Ok();
}

void Put(WireWriter& w, const Ping& m) { w.PutU64(m.sequence); }
Status Get(WireReader& r, Ping* m) {
  ASSIGN_OR_RETURN(m->sequence, r.ReadU64());
  return Status::Ok();
}

void Put(WireWriter& w, const Pong& m) { w.PutU64(m.sequence); }
Status Get(WireReader& r, Pong* m) {
  ASSIGN_OR_RETURN(m->sequence, r.ReadU64());
  return Status::Ok();
}

void Put(WireWriter&, const Shutdown&) {}
Status Get(WireReader&, Shutdown*) { return Status::Ok(); }

void Put(WireWriter& w, const MapRegion& m) {
  w.PutU32(m.region);
  w.PutU64(m.size);
}
Status Get(WireReader& r, MapRegion* m) {
  ASSIGN_OR_RETURN(m->region, r.ReadU32());
  ASSIGN_OR_RETURN(m->size, r.ReadU64());
  if (m->region == 0) return InvalidArgument("ipc MapRegion names region 0");
  return Status::Ok();
}

void Put(WireWriter& w, const ReleaseOutputs& m) { w.PutU64(m.batch_id); }
Status Get(WireReader& r, ReleaseOutputs* m) {
  ASSIGN_OR_RETURN(m->batch_id, r.ReadU64());
  return Status::Ok();
}

void Put(WireWriter& w, const DeviceLost& m) {
  w.PutU64(m.batch_id);
  PutBoundedString(w, m.message);
}
Status Get(WireReader& r, DeviceLost* m) {
  ASSIGN_OR_RETURN(m->batch_id, r.ReadU64());
  ASSIGN_OR_RETURN(m->message, r.ReadString(kMaxStringBytes));
  return Status::Ok();
}

void Put(WireWriter& w, const Progress& m) {
  w.PutU64(m.batch_id);
  w.PutU32(m.request);
  w.PutF64(m.fraction);
  PutBoundedString(w, m.message);
}
Status Get(WireReader& r, Progress* m) {
  ASSIGN_OR_RETURN(m->batch_id, r.ReadU64());
  ASSIGN_OR_RETURN(m->request, r.ReadU32());
  ASSIGN_OR_RETURN(m->fraction, r.ReadF64());
  if (!(m->fraction >= 0 && m->fraction <= 1)) {  // NaN fails both
    return InvalidArgument(fmt::format("ipc Progress fraction {} is outside [0, 1]", m->fraction));
  }
  ASSIGN_OR_RETURN(m->message, r.ReadString(kMaxStringBytes));
  return Status::Ok();
}

void Put(WireWriter& w, const Partial& m) {
  w.PutU64(m.batch_id);
  w.PutU32(m.request);
  PutList(w, m.outputs);
}
Status Get(WireReader& r, Partial* m) {
  ASSIGN_OR_RETURN(m->batch_id, r.ReadU64());
  ASSIGN_OR_RETURN(m->request, r.ReadU32());
  RETURN_IF_ERROR(GetList(r, kMaxTensorsPerRequest, &m->outputs));
  std::size_t total = 0;
  for (const PartialOutput& output : m->outputs) total += output.bytes.size();
  if (total > SY_MAX_PARTIAL_RESPONSE_BYTES) {
    return InvalidArgument(fmt::format("ipc Partial carries {} bytes (at most {})", total,
                                       SY_MAX_PARTIAL_RESPONSE_BYTES));
  }
  return Status::Ok();
}

// The body of the alternative whose tag is `tag` (its index in Message plus one).
template <std::size_t... I>
StatusOr<Message> GetBody(uint32_t tag, WireReader& r, std::index_sequence<I...>) {
  StatusOr<Message> result = InvalidArgument(fmt::format("unknown ipc message type {}", tag));
  auto try_alternative = [&]<std::size_t Index>(std::integral_constant<std::size_t, Index>) {
    if (tag != Index + 1) return false;
    std::variant_alternative_t<Index, Message> body;
    Status status = Get(r, &body);
    if (status.ok()) {
      result = Message(std::move(body));
    } else {
      result = std::move(status);
    }
    return true;
  };
  (try_alternative(std::integral_constant<std::size_t, I>{}) || ...);
  return result;
}

}  // namespace

std::string_view MessageName(const Message& message) {
  static constexpr std::string_view kNames[] = {
      "Hello",    "Ready",     "LoadFailed",     "Execute",    "Result",   "Ping",   "Pong",
      "Shutdown", "MapRegion", "ReleaseOutputs", "DeviceLost", "Progress", "Partial"};
  static_assert(std::size(kNames) == std::variant_size_v<Message>);
  return kNames[message.index()];
}

std::vector<std::byte> Encode(const Message& message) {
  WireWriter w;
  w.PutU32(kMagic);
  w.PutU32(static_cast<uint32_t>(message.index() + 1));
  std::visit([&w](const auto& body) { Put(w, body); }, message);
  return std::move(w).Release();
}

StatusOr<Message> Decode(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ASSIGN_OR_RETURN(uint32_t magic, r.ReadU32());
  if (magic != kMagic) return InvalidArgument(fmt::format("bad ipc magic {:#010x}", magic));
  ASSIGN_OR_RETURN(uint32_t tag, r.ReadU32());
  ASSIGN_OR_RETURN(Message message,
                   GetBody(tag, r, std::make_index_sequence<std::variant_size_v<Message>>()));
  RETURN_IF_ERROR(r.ExpectEnd());
  return message;
}

}  // namespace switchyard::ipc
