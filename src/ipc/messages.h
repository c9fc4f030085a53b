#pragma once
// The messages between the server and a worker process, and their codec.
//
// Protocol: the worker sends Hello first, then Ready once its model instance is loaded and warmed
// up (or LoadFailed, and exits). The server then sends MapRegion, Execute, ReleaseOutputs, Ping
// and finally Shutdown; the
// worker answers each Execute with a Result (or DeviceLost, and exits) and each Ping with a Pong.
// Tensor bytes are not in the messages: they live in shared-memory slots (ShmRegion) and the
// messages name offsets there.
//
// Encoding (wire.h primitives): u32 magic kMagic, u32 type tag, then the fields of the struct in
// declaration order; vectors as a u32 count then the elements. The type tag is the alternative's
// position in Message plus one: add new types at the end, never reorder. Every message has one
// encoding, so Encode(*Decode(bytes)) == bytes.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "switchyard/status.h"

namespace switchyard::ipc {

// "SYW1" in the first four bytes of every message.
inline constexpr uint32_t kMagic = 0x31575953;

// Caps that Decode enforces. Encode's caller must stay within the counts (the peer would reject
// the message); Encode shortens longer strings itself.
inline constexpr std::size_t kMaxRequests = 4096;          // per Execute / Result
inline constexpr std::size_t kMaxTensorsPerRequest = 256;  // inputs or outputs of one request
inline constexpr std::size_t kMaxDims = 16;                // per TensorRef shape
inline constexpr std::size_t kMaxStringBytes = 64 << 10;   // per string
inline constexpr std::size_t kMaxParameters = 64;          // per request

struct Hello {  // worker -> server, first message
  int64_t pid = 0;
  uint32_t api_version = 0;
  friend bool operator==(const Hello&, const Hello&) = default;
};

struct Ready {  // worker -> server: model and instance loaded and warmed up
  uint64_t device_memory_bytes = 0;
  friend bool operator==(const Ready&, const Ready&) = default;
};

struct LoadFailed {  // worker -> server: load failed; the worker exits after sending it
  // A StatusCode: InvalidArgument when the backend refused the model's config (the server then
  // refuses the model), anything else when the model could not come up (it stays unavailable).
  uint32_t code = 0;
  std::string message;
  friend bool operator==(const LoadFailed&, const LoadFailed&) = default;
};

// A tensor in shared memory: the batch's slot, or a region its sender announced with MapRegion
// (inputs: a body region of the server; outputs: an output region of the worker). Decode checks
// that offset + size does not overflow, not that it lies within the memory: the receiver checks
// that against what it maps (see TensorFits).
struct TensorRef {
  uint32_t index = 0;          // position of the input/output in the model config
  uint32_t datatype = 0;       // switchyard::DataType as an integer (include/switchyard/datatype.h)
  std::vector<int64_t> shape;  // at most kMaxDims dims, each >= 0
  uint32_t region = 0;         // 0: the slot; else a region the sender announced (MapRegion)
  uint64_t offset = 0;         // byte offset in the slot or region
  uint64_t size = 0;           // bytes
  friend bool operator==(const TensorRef&, const TensorRef&) = default;
};

// True if `tensor`'s bytes lie within a slot of `slot_size` bytes.
inline bool TensorFits(const TensorRef& tensor, uint64_t slot_size) {
  return tensor.offset <= slot_size && tensor.size <= slot_size - tensor.offset;
}

struct RequestRef {
  std::vector<TensorRef> inputs;              // one per config input
  uint64_t requested_outputs = ~uint64_t{0};  // bit i: output i was asked for (outputs beyond 64
                                              // are always produced)
  // The client's parameters for the model (InferRequest::parameters), at most kMaxParameters.
  std::vector<std::pair<std::string, std::string>> parameters;
  // Whether the server takes the request's partial responses (InferRequest::partial): the
  // worker sends them as Partial messages, or else drops them.
  bool takes_partials = false;
  friend bool operator==(const RequestRef&, const RequestRef&) = default;
};

struct Execute {  // server -> worker
  uint64_t batch_id = 0;
  uint32_t slot = 0;  // which shared-memory slot holds the inputs
  // When the message carries an fd: the slot's new memory of this size replaces the old.
  uint64_t slot_size = 0;
  std::vector<RequestRef> requests;
  // Offset in the slot of one byte per request, in request order: its SyCancelState
  // (include/switchyard/backend.h), which the server sets while the batch executes (the
  // client went away, or its timeout passed) and the worker reads.
  uint64_t cancel_flags = 0;
  friend bool operator==(const Execute&, const Execute&) = default;
};

struct RequestResult {
  uint32_t code = 0;               // switchyard::StatusCode as an integer; 0 = OK
  std::string message;             // when code != 0
  std::vector<TensorRef> outputs;  // when code == 0
  friend bool operator==(const RequestResult&, const RequestResult&) = default;
};

struct Result {  // worker -> server
  uint64_t batch_id = 0;
  uint32_t slot = 0;
  // When the message carries an fd: the worker grew the slot; the fd is its new memory of this
  // size.
  uint64_t slot_size = 0;
  std::vector<RequestResult> requests;
  uint64_t execute_ns = 0;  // how long the backend's execute took, as the worker's clock saw it
  friend bool operator==(const Result&, const Result&) = default;
};

struct Ping {
  uint64_t sequence = 0;
  friend bool operator==(const Ping&, const Ping&) = default;
};

struct Pong {
  uint64_t sequence = 0;
  friend bool operator==(const Pong&, const Pong&) = default;
};

struct Shutdown {
  friend bool operator==(const Shutdown&, const Shutdown&) = default;
};

// A shared-memory region (ipc/shm_pool.h), with its memfd, sent once to the peer before the first
// message that names it (TensorRef::region), and alive as long as the sender's pool:
//  - server -> worker: a region request bodies of this model are received in; the inputs of
//    later Executes may lie there;
//  - worker -> server: a region of the worker's output pool; the outputs of later Results may
//    lie there, and stay untouched until the server sends ReleaseOutputs for their batch.
// Region ids are unique within the sending process.
struct MapRegion {
  uint32_t region = 0;  // never 0
  uint64_t size = 0;    // bytes
  friend bool operator==(const MapRegion&, const MapRegion&) = default;
};

// server -> worker: the server is done with the outputs of `batch_id` that lie in the worker's
// output regions; the worker may reuse their memory.
struct ReleaseOutputs {
  uint64_t batch_id = 0;
  friend bool operator==(const ReleaseOutputs&, const ReleaseOutputs&) = default;
};

// worker -> server, instead of the Result of `batch_id`: the plugin reported its device unusable
// (SY_ERROR_DEVICE_LOST) while executing that batch; the worker exits after sending it. The
// server treats the batch as lost with the worker (retried elsewhere) and the worker's GPUs as
// failed until a new worker on them is ready.
struct DeviceLost {
  uint64_t batch_id = 0;
  std::string message;  // the plugin's error
  friend bool operator==(const DeviceLost&, const DeviceLost&) = default;
};

// worker -> server, while `batch_id` executes: its backend reported the progress of request
// `request` (SyHostApi::request_progress). The server passes it to whoever follows that request
// and ignores one for a batch or request it does not know (the batch may have been answered).
struct Progress {
  uint64_t batch_id = 0;
  uint32_t request = 0;  // its index in the Execute
  double fraction = 0;   // 0 to 1 (Decode refuses anything else, NaN included)
  std::string message;   // the backend's last word on it; may be empty
  friend bool operator==(const Progress&, const Progress&) = default;
};

// One output of a Partial: its bytes travel in the message (partial responses are small).
struct PartialOutput {
  uint32_t index = 0;          // its position in the model config
  std::vector<int64_t> shape;  // at most kMaxDims dims, each >= 0
  std::string bytes;
  friend bool operator==(const PartialOutput&, const PartialOutput&) = default;
};

// worker -> server, while `batch_id` executes: its backend sent a partial response for request
// `request` (SyHostApi::request_send_partial), which the server checks against the config and
// passes on, in order, before the batch's Result. Ignored for a batch or request it does not
// know. Decode refuses more than SY_MAX_PARTIAL_RESPONSE_BYTES of output bytes in all.
struct Partial {
  uint64_t batch_id = 0;
  uint32_t request = 0;  // its index in the Execute
  std::vector<PartialOutput> outputs;
  friend bool operator==(const Partial&, const Partial&) = default;
};

using Message = std::variant<Hello, Ready, LoadFailed, Execute, Result, Ping, Pong, Shutdown,
                             MapRegion, ReleaseOutputs, DeviceLost, Progress, Partial>;

// The alternative's name ("Hello", "Execute", ...), for logs and errors.
std::string_view MessageName(const Message& message);

// REQUIRES: counts within the caps above. Strings longer than kMaxStringBytes are cut there (at
// a UTF-8 character boundary). A Partial's bytes must be within its cap. The result may exceed
// Channel::kMaxMessageBytes, which Send refuses.
std::vector<std::byte> Encode(const Message& message);

// Parses one encoded message. InvalidArgument for anything malformed: bad magic or type tag, too
// few bytes, counts or strings over the caps, a datatype outside DataType, a code outside
// StatusCode, a negative dim, offset + size overflowing, a progress fraction outside [0, 1], a
// Partial over its byte cap, trailing bytes.
StatusOr<Message> Decode(std::span<const std::byte> bytes);

}  // namespace switchyard::ipc
