#pragma once
// The persistent-mode protocol between the plugin and the program (docs/exec-backend.md has the
// same description for program authors). Everything is little-endian; the plugin writes frames
// to the program's stdin and reads frames from its stdout.
//
//   frame   = u32 size | u8 kind | body             size counts kind + body
//   str     = u32 n | n bytes (UTF-8)
//   spec    = str name | str datatype | u32 ndim | i64 dim × ndim        (config dims, -1 variable)
//   tensor  = str name | str datatype | u32 ndim | i64 dim × ndim | u64 n | n bytes
//
//   HELLO   kind 1, plugin → program, once at start:
//           "SYEX" | u32 version | str model | i64 model_version | u32 max_batch_size |
//           u32 ninputs | spec × ninputs | u32 noutputs | spec × noutputs |
//           then, appended in 2026-12 (a program that stops reading here still works):
//           u32 nparams | (str key | str value) × nparams |     the model's own parameters
//           i32 instance_index | u32 gpu_count | str cuda_visible_devices |
//           str model_dir | str version_dir
//   READY   kind 2, program → plugin, the answer to HELLO: "SYEX" | u32 version, then
//           optionally (appended in 2026-12) u32 features: bit 0 (kFeatureRequestParameters):
//           the program takes each request's parameters in BATCH; bit 1 (kFeatureCancel): it
//           takes CANCEL frames; bit 2 (kFeatureSharedInputs): it reads inputs from the shared
//           region (shared_inputs.h) when BATCH puts them there; bit 3 (kFeaturePipelined): it
//           reads the next BATCH while it works on one (its stdin on a thread of its own), so
//           the plugin may send a second BATCH before the first's RESULT (RESULTs still come
//           one per BATCH, in order); other bits 0
//   BATCH   kind 3, plugin → program: u64 batch_id | u32 nrequests | per request:
//           u32 ninputs | tensor × ninputs | u32 nwanted | str output_name × nwanted
//           [| u32 nparams | (str key | str value) × nparams   only for a program whose READY
//                                                               announced
//                                                               kFeatureRequestParameters]
//           For a program that announced kFeatureSharedInputs, an input tensor's data may be
//           `u64 (n | 1 << 63) | u64 offset` instead of `u64 n | n bytes`: its n bytes lie at
//           that offset of the shared region, valid until the program answers the batch.
//   RESULT  kind 4, program → plugin, one per BATCH, in order: u64 batch_id (echoed) |
//           u32 nrequests (same as the batch) | per request: u8 status, then
//             status 0 (ok):  u32 noutputs | tensor × noutputs
//             status 1..4:    str message  (1 invalid argument → HTTP 400, 2 internal → 500,
//                                           3 unavailable → 503, 4 unsupported; others → 500)
//           then, optionally (appended in 2026-12): u8 flags; bit 0: the program ends after
//           this answer (the plugin starts a new one for the next batch); other bits 0
//   CANCEL  kind 5, plugin → program, only to a program whose READY announced kFeatureCancel:
//           u64 batch_id | u32 request (its index in that BATCH) | u8 reason (1: the client
//           went away, 2: the client's timeout passed). Sent after the BATCH, at most once per
//           request, while the plugin waits for that batch's RESULT; one may still arrive after
//           the program wrote that RESULT (ignore a CANCEL whose batch is not the current one).
//           The program may stop the request and answer it with an error, or finish it; the
//           RESULT still has an entry for it.
//   PROGRESS kind 6, program → plugin, any number while the program works on a batch, before
//           its RESULT: u64 batch_id | u32 request (its index in that BATCH) | f64 fraction
//           (IEEE-754, 0 to 1) | str message (at most kMaxProgressBytes in all). The plugin
//           passes it to the host (SyHostApi::request_progress); one naming another batch or
//           a request out of range is ignored.
//   PARTIAL kind 7, program → plugin, any number while the program works on a batch, before
//           its RESULT, mixed with PROGRESS frames in any order: u64 batch_id | u32 request |
//           u32 noutputs | tensor × noutputs (at most kMaxPartialBytes in all). A response for
//           that request ahead of its final one (SyHostApi::request_send_partial): outputs named
//           as in RESULT, any subset of them, at most SY_MAX_PARTIAL_RESPONSE_BYTES of tensor
//           data. One the host refuses (an unknown output, a size that does not fit its shape,
//           too many bytes) fails its request with the reason; one naming another batch or a
//           request out of range is ignored.
//
// Tensor data uses the KServe binary layout: row-major; BYTES elements are each a u32 length
// followed by the bytes. Shapes include the batch dimension when max_batch_size > 0.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "exec/exec_parameters.h"
#include "exec/model_spec.h"
#include "exec/outgoing_frame.h"
#include "exec/shared_inputs.h"
#include "switchyard/backend.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {

inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr std::string_view kMagic = "SYEX";
inline constexpr size_t kFrameHeaderSize = 5;  // u32 size + u8 kind

enum class FrameKind : uint8_t {
  kHello = 1,
  kReady = 2,
  kBatch = 3,
  kResult = 4,
  kCancel = 5,
  kProgress = 6,
  kPartial = 7
};
// The largest PROGRESS frame (kind byte and body) the plugin accepts.
inline constexpr uint32_t kMaxProgressBytes = 64 << 10;
// The largest PARTIAL frame (kind byte and body): the tensor data, and room for its names and
// shapes.
inline constexpr uint32_t kMaxPartialBytes = SY_MAX_PARTIAL_RESPONSE_BYTES + (64 << 10);

// Whether `kind` is a frame the program may send before a RESULT (PROGRESS, PARTIAL).
inline bool IsInterimFrame(uint8_t kind) {
  return kind == static_cast<uint8_t>(FrameKind::kProgress) ||
         kind == static_cast<uint8_t>(FrameKind::kPartial);
}

std::string_view FrameKindName(FrameKind kind);

// One input of one request, borrowed from the host.
struct InputView {
  std::string_view name;
  SyDataType datatype = SY_TYPE_FP32;
  std::span<const int64_t> shape;
  std::span<const uint8_t> data;
};

struct RequestView {
  std::vector<InputView> inputs;
  std::vector<std::string_view> wanted_outputs;
  std::vector<std::pair<std::string_view, std::string_view>> parameters;  // the client's
};

// READY feature bits.
inline constexpr uint32_t kFeatureRequestParameters = 1;
inline constexpr uint32_t kFeatureCancel = 2;
inline constexpr uint32_t kFeatureSharedInputs = 4;
inline constexpr uint32_t kFeaturePipelined = 8;
// Set in a BATCH tensor's size when its bytes lie in the shared region.
inline constexpr uint64_t kSharedTensorBit = uint64_t{1} << 63;

// The HELLO for `instance` of `model`; `params.program_parameters` are the parameters it lists.
OutgoingFrame EncodeHello(const ModelSpec& model, const InstanceSpec& instance,
                          const ExecParameters& params);
// The frame borrows the inputs' data; each request's parameters follow its wanted outputs when
// `with_parameters` (the program announced kFeatureRequestParameters). With `shared` (the
// program announced kFeatureSharedInputs), the inputs are copied into that lane of the shared
// region instead and named by offset, when all of them fit; otherwise they travel in the frame.
// InvalidArgument if the frame exceeds 4 GiB.
sdk::StatusOr<OutgoingFrame> EncodeBatch(uint64_t batch_id, std::span<const RequestView> requests,
                                         bool with_parameters, SharedLane* shared = nullptr);

// The CANCEL of request `request` of batch `batch_id`. REQUIRES: `state` is not
// SY_NOT_CANCELLED.
OutgoingFrame EncodeCancel(uint64_t batch_id, uint32_t request, SyCancelState state);

// The size of the frame whose first kFrameHeaderSize bytes begin `header`, after checking that
// its kind is `expected` (or, when `interim_too`, PROGRESS of at most kMaxProgressBytes or
// PARTIAL of at most kMaxPartialBytes) and its size is at most `max_size`. The error shows `header`
// (all of it, up to 48 bytes) as text, so a program that prints to stdout is easy to recognise.
sdk::StatusOr<uint32_t> CheckFrameHeader(std::span<const uint8_t> header, FrameKind expected,
                                         uint32_t max_size, bool interim_too = false);

// The READY body (after the kind byte): magic, version kProtocolVersion and the optional
// features. Returns the features (0 when absent).
sdk::StatusOr<uint32_t> DecodeReady(std::span<const uint8_t> body);

// A tensor the program returned; views into the frame.
struct OutputTensor {
  std::string_view name;
  std::string_view datatype;
  std::vector<int64_t> shape;
  std::span<const uint8_t> data;
};

struct RequestResult {
  bool ok = true;
  SyErrorCode code = SY_ERROR_INTERNAL;  // when !ok
  std::string_view error;                // when !ok
  std::vector<OutputTensor> outputs;     // when ok
};

inline constexpr uint8_t kResultFlagProgramEnds = 1;

struct BatchResult {
  uint64_t batch_id = 0;
  std::vector<RequestResult> requests;
  bool program_ends = false;  // RESULT flag bit 0
};

// A PROGRESS body: views into the frame.
struct ProgressReport {
  uint64_t batch_id = 0;
  uint32_t request = 0;
  double fraction = 0;  // 0 to 1
  std::string_view message;
};

// Decodes a PROGRESS body (after the kind byte). InvalidArgument when it is malformed, has
// trailing bytes or a fraction outside [0, 1] (NaN included).
sdk::StatusOr<ProgressReport> DecodeProgress(std::span<const uint8_t> body);

// A PARTIAL body: views into the frame.
struct PartialReport {
  uint64_t batch_id = 0;
  uint32_t request = 0;
  std::vector<OutputTensor> outputs;
};

// Decodes a PARTIAL body (after the kind byte); only the structure is checked, as for RESULT.
// InvalidArgument when it is malformed or has trailing bytes.
sdk::StatusOr<PartialReport> DecodePartial(std::span<const uint8_t> body);

// Decodes a RESULT body (after the kind byte). Only the structure is checked here (outputs are
// checked against the config by CheckOutput); trailing bytes are an error. The result views
// `body`.
sdk::StatusOr<BatchResult> DecodeResult(std::span<const uint8_t> body);

// The first bytes of `data` as printable text (non-printable bytes as \xNN), at most `max` bytes.
std::string PreviewBytes(std::span<const uint8_t> data, size_t max = 48);

}  // namespace switchyard::exec
