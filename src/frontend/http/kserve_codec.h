#pragma once
// KServe v2 inference request/response bodies over HTTP: JSON tensors (nested or flat) and the
// binary tensor data extension, in both directions. Pure functions, no I/O, no exceptions:
// unit-tested and fuzzed (tests/fuzz/fuzz_infer_request.cc). Decoding is in kserve_codec.cc,
// encoding in kserve_encode.cc. Thread-safe (the decoder keeps a per-thread JSON parser).

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "frontend/http/json_writer.h"
#include "frontend/http/shared_memory_ref.h"
#include "switchyard/infer.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard::http {

// How the client asked for each output to be sent back.
struct OutputEncoding {
  bool all_binary = false;                     // request `parameters.binary_data_output: true`
  std::map<std::string, bool> binary_by_name;  // output `parameters.binary_data`
  // Outputs to be written into a registered shared-memory region (output `parameters.
  // shared_memory_region`, `shared_memory_byte_size`, `shared_memory_offset`), by name.
  std::map<std::string, SharedMemoryRef> shared_memory;
  // The output's own `binary_data` if it was given, else `all_binary`.
  bool IsBinary(const std::string& output_name) const;
};

struct DecodedInferRequest {
  std::unique_ptr<InferRequest> request;  // model_name/model_version are left for the caller
  OutputEncoding output_encoding;
  // The shared-memory regions inputs take their bytes from (kept mapped): if the owner truncates
  // one while the request uses it, the request read zeros there, and its answer must be refused
  // (CheckInputRegions) rather than computed from them.
  std::vector<SharedMemoryRef> input_regions;
};

// Decodes an infer request body.
// `body`: the whole HTTP body; it is moved into request->payload and binary tensors borrow
// from it (no copy). `json_length`: the Inference-Header-Content-Length header, nullopt if
// absent (the whole body is JSON). `model`: the target model (its single input describes a
// body of raw tensor bytes when json_length is 0; otherwise the config is not consulted, the
// core validates inputs against it).
// Errors are InvalidArgument with a message naming the field (bad JSON, unknown datatype,
// data that does not match shape, FP16/BF16 as JSON, binary_data_size past the body, ...).
//
// JSON `data` may be nested or flat; only the element count is checked against the shape.
// Integer types take JSON integers, or integral numbers such as 2.0, within the type's range;
// FP32/FP64 take any JSON number that the type can hold (1e39 is not an FP32); BOOL takes
// true/false; BYTES takes strings. Inputs with `parameters.binary_data_size` take that many
// bytes of the binary section, in input order, and must use it all. Request parameters read:
// `priority` (int >= 0), `timeout` (µs, int > 0), `binary_data_output` (bool); the others are
// the model's (InferRequest::parameters, within its caps). json_length 0: the body is the model's
// single input (shape [1, dims...] when the model batches, else dims; one -1 dim is resolved from
// the body size) and every output is sent binary. On success every input tensor is well-formed
// (Tensor::Validate passes). The request must stay where it is allocated (it is): borrowed tensors
// point into `payload`.
//
// The system shared-memory extension: an input whose parameters name `shared_memory_region` and
// `shared_memory_byte_size` (and optionally `shared_memory_offset`, default 0) takes its bytes
// from that registered region (no `data`, no `binary_data_size`), held by the tensor; an output
// with them is recorded in OutputEncoding::shared_memory. Both need `shared_memory` (null: the
// extension is off, and such a request is InvalidArgument); an unknown region is NotFound.
StatusOr<DecodedInferRequest> DecodeInferRequest(
    RequestBody body, std::optional<std::size_t> json_length, const ModelConfig& model,
    const SharedMemoryRegistry* shared_memory = nullptr);

struct EncodedBody {
  std::string body;  // the JSON
  // The binary outputs' bytes, in output order, to send after `body`: views into the response's
  // output tensors (not copies), valid while the response lives.
  std::vector<std::span<const std::byte>> binary;
  // Set when binary output data follows the JSON: the value for Inference-Header-Content-Length.
  std::optional<std::size_t> json_length;

  // `body` followed by every binary part, in one buffer.
  std::string Flat() const;
};

// Encodes a response. Outputs in `encoding.shared_memory` are copied into their region and
// named in the JSON by `parameters.shared_memory_region` and `shared_memory_byte_size` (the bytes
// written), without data; one larger than its region's `shared_memory_byte_size` is
// InvalidArgument. Outputs that `encoding` marks binary follow the JSON (EncodedBody::binary)
// with `parameters.binary_data_size`; the rest go as flat JSON arrays. FP16/BF16 outputs are always
// sent binary. Floating-point values are written as the shortest text that reads back the same;
// NaN and infinities as NaN, Infinity and -Infinity (not JSON, but what Python's json module and
// so tritonclient read). BYTES elements are JSON strings. json_length is set iff some output is
// binary. Fails with InvalidArgument for a BYTES output element that is not valid UTF-8 and was
// asked for as JSON, and with Internal for an output whose bytes do not match its shape (a
// backend bug).
StatusOr<EncodedBody> EncodeInferResponse(const InferResponse& response,
                                          const OutputEncoding& encoding);
// The result points into the response: it must outlive the encoding.
StatusOr<EncodedBody> EncodeInferResponse(InferResponse&& response,
                                          const OutputEncoding& encoding) = delete;

// Writes `tensor`'s elements as JSON arrays nested by `nesting` (Shape{n}: one flat array),
// numbers as EncodeInferResponse writes them, BYTES as strings. REQUIRES: tensor.Validate().ok().
// InvalidArgument for a BYTES element that is not UTF-8; Internal for FP16/BF16 (no JSON form) or
// a nesting with another element count. `what` names the tensor in messages.
Status WriteTensorValues(const Tensor& tensor, const Shape& nesting, std::string_view what,
                         JsonWriter& writer);

// {"error": "<message>"} with the message JSON-escaped.
std::string ErrorJson(std::string_view message);

}  // namespace switchyard::http
