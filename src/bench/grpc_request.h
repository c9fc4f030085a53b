#pragma once
// The messages of `switchyard bench --protocol grpc`: the ModelInferRequest each client sends,
// and what a stream response counts as. Pure functions (tests/unit/bench/grpc_request_test.cc).
// Built only with gRPC (SWITCHYARD_WITH_GRPC).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_options.h"
#include "bench/model_metadata.h"
#include "grpc_service.pb.h"
#include "switchyard/status.h"

namespace switchyard::bench {

// model_name and every input's name, datatype and shape, with the data of BuildInputBytes(inputs,
// seed) (the values an HTTP request of the same seed carries): kRaw, in raw_input_contents (one
// entry per input, in order); kTyped, in each input's `contents` field of its datatype
// (bool_contents, int_contents for INT8/16/32, uint_contents for UINT8/16/32, int64_contents,
// uint64_contents, fp32_contents, fp64_contents, bytes_contents one element each).
// InvalidArgument, naming the input, for kTyped with FP16 or BF16 (they have no typed form).
// REQUIRES: every shape concrete.
StatusOr<inference::ModelInferRequest> BuildModelInferRequest(
    const std::string& model, const std::vector<TensorMetadata>& inputs, GrpcContents contents,
    uint64_t seed);

// What one answer counts as: status 0 a success, else an error of that status with `message`.
struct GrpcOutcome {
  unsigned status = 0;  // a gRPC status code, or kGrpcStreamError (load_recorder.h)
  std::string message;
};

// A ModelStreamInferResponse: kGrpcStreamError with its error_message when it has one, else a
// success.
GrpcOutcome ClassifyStreamResponse(const inference::ModelStreamInferResponse& response);

// The final status of a stream that ended while a request was waiting for its answer: the
// stream's code and message, or UNKNOWN ("the stream ended without answering") if it ended OK.
GrpcOutcome ClassifyBrokenStream(int code, std::string_view message);

}  // namespace switchyard::bench
