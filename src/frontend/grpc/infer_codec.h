#pragma once
// ModelInferRequest -> InferRequest and InferResponse -> ModelInferResponse: the gRPC form of
// the KServe v2 inference protocol (docs/protocol.md, "gRPC"), in both directions. Pure
// functions, no I/O: unit-tested (tests/unit/frontend/grpc/infer_codec_test.cc).
// Thread-safe (no shared state).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/http/shared_memory_ref.h"
#include "grpc_service.pb.h"
#include "switchyard/infer.h"
#include "switchyard/status.h"

namespace switchyard::grpc_frontend {

// Outputs to be written into registered shared-memory regions, by output name.
using OutputRegions = std::map<std::string, http::SharedMemoryRef>;

// A request's `model_version`: "" is the served one (-1); otherwise a positive integer, else
// InvalidArgument.
StatusOr<int64_t> ParseModelVersion(std::string_view text);

// Decodes `message` into a core request (model_name and model_version set from it).
//
// Inputs take their bytes either from typed `contents` (the field of the input's datatype:
// bool_contents for BOOL, int_contents for INT8/16/32, int64_contents, uint_contents for
// UINT8/16/32, uint64_contents, fp32_contents, fp64_contents, bytes_contents for BYTES; its
// element count must equal the shape's, each value must fit the datatype, and no other field may
// hold values; FP16 and BF16 have no typed form) or from `raw_input_contents`, which then has
// exactly one entry per input, in order, and no input has `contents`. Raw bytes are not copied:
// they are moved out of `message` (whose raw_input_contents are left empty) into memory the
// tensors share. Their sizes are checked by the core (Tensor::Validate).
//
// Request parameters read: `priority` (int64 or uint64 param, >= 0) and `timeout` (µs, int64 or
// uint64 param, > 0); the others become the model's (InferRequest::parameters: a string as its
// contents, a bool as true/false, numbers as decimal text). Requested outputs become
// requested_outputs, in order. Input and output parameters are ignored.
//
// Errors are InvalidArgument naming the input or field (unknown datatype, a negative dim, a
// count that does not match the shape, a value out of the datatype's range, ...).
//
// Shared memory (the system shared-memory extension, with `shared_memory`; null: off): an input
// whose parameters name `shared_memory_region` (string), `shared_memory_byte_size` and
// optionally `shared_memory_offset` takes its bytes from that registered region and has no raw
// entry (the raw entries are the other inputs', in order); an output with them is written into
// its region when answered (DecodedModelInfer::output_regions). InvalidArgument when a request
// names one and the extension is off; the registry's errors for an unknown region or range.
struct DecodedModelInfer {
  std::unique_ptr<InferRequest> request;
  // The regions the inputs read from (kept mapped): check them (http::CheckInputRegions) once
  // the request has executed, before answering.
  std::vector<http::SharedMemoryRef> input_regions;
  OutputRegions output_regions;
};
StatusOr<DecodedModelInfer> DecodeModelInferRequest(
    inference::ModelInferRequest& message,
    const http::SharedMemoryRegistry* shared_memory = nullptr);

// Fills `out` from `response`: model_name (`model_name`, the name the client asked for),
// model_version, id, and per output its name, datatype and shape, with its bytes in
// raw_output_contents (one entry per output, in order; BYTES elements as the core holds them,
// each a 4-byte little-endian length and its bytes, as Triton sends them). Internal for an
// output whose bytes do not match its shape (a backend bug). An output in `output_regions` (may
// be null) is written into its region instead: its raw entry is empty and its parameters name
// the region and the bytes written (http::CopyToSharedMemory's errors when it does not fit).
Status EncodeModelInferResponse(const InferResponse& response, std::string_view model_name,
                                inference::ModelInferResponse* out,
                                const OutputRegions* output_regions = nullptr);

}  // namespace switchyard::grpc_frontend
