#pragma once
// KServe v2 inference request/response bodies over HTTP: JSON tensors (nested or flat) and the
// binary tensor data extension, in both directions. Pure functions, no I/O: unit-tested and
// fuzzed (tests/fuzz/fuzz_infer_request.cc).

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "switchyard/infer.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard::http {

// How the client asked for each output to be sent back.
struct OutputEncoding {
  bool all_binary = false;                     // request `parameters.binary_data_output: true`
  std::map<std::string, bool> binary_by_name;  // output `parameters.binary_data`
  bool IsBinary(const std::string& output_name) const;
};

struct DecodedInferRequest {
  std::unique_ptr<InferRequest> request;  // model_name/model_version are left for the caller
  OutputEncoding output_encoding;
};

// Decodes an infer request body.
// `body`: the whole HTTP body; it is moved into request->payload and binary tensors borrow
// from it (no copy). `json_length`: the Inference-Header-Content-Length header, nullopt if
// absent (the whole body is JSON). `model`: the target model (its single input describes a
// body of raw tensor bytes when json_length is 0; otherwise the config is not consulted, the
// core validates inputs against it).
// Errors are InvalidArgument with a message naming the field (bad JSON, unknown datatype,
// data that does not match shape, FP16/BF16 as JSON, binary_data_size past the body, ...).
StatusOr<DecodedInferRequest> DecodeInferRequest(std::string body,
                                                 std::optional<std::size_t> json_length,
                                                 const ModelConfig& model);

struct EncodedBody {
  std::string body;
  // Set when binary output data follows the JSON: the value for Inference-Header-Content-Length.
  std::optional<std::size_t> json_length;
};

// Encodes a response. Outputs that `encoding` marks binary are appended after the JSON with
// `parameters.binary_data_size`; the rest go as flat JSON arrays. FP16/BF16 outputs are always
// sent binary. Fails (InvalidArgument) only for a BYTES output element that is not valid UTF-8
// and was asked for as JSON.
StatusOr<EncodedBody> EncodeInferResponse(const InferResponse& response,
                                          const OutputEncoding& encoding);

// {"error": "<message>"} with the message JSON-escaped.
std::string ErrorJson(std::string_view message);

}  // namespace switchyard::http
