#pragma once
// Builds the body of one infer request with random, seeded input data. The load generator builds
// each client's request once, before measuring.
//
// Data: integers uniform in [0, 100) (BYTES: the same integers as decimal strings, which models
// such as `simple_string` parse), BOOL 0/1, floating types uniform in [0, 1) on a grid that every
// type represents exactly (FP16 k/2048, BF16 k/256, FP32 k/2^24, FP64 k/2^53). Values depend
// only on the seed (std::mt19937_64 and integer arithmetic), not on the standard library.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_options.h"
#include "bench/model_metadata.h"

namespace switchyard::bench {

struct PreparedBody {
  std::string body;
  // For kBinary: the length of the JSON header, sent as Inference-Header-Content-Length.
  // 0 for kJson.
  std::size_t json_length = 0;
  // For kSharedMemory: what the region must hold, the inputs' bytes in input order (as kBinary
  // sends them after the JSON).
  std::string shared_bytes;
};

// kJson: {"inputs":[{"name","datatype","shape","data":[flat]}...]}.
// kBinary: {"inputs":[{"name","datatype","shape","parameters":{"binary_data_size":N}}...],
// "parameters":{"binary_data_output":true}} followed by each input's bytes in order
// (little-endian; BYTES elements as a 4-byte length then the bytes).
// kSharedMemory: like kBinary, but each input names its bytes in registered region `region`
// ("parameters":{"shared_memory_region","shared_memory_byte_size","shared_memory_offset"}) and
// they go to shared_bytes instead of the body.
// REQUIRES: every shape concrete (see ResolveInputs); no FP16/BF16 input with kJson.
PreparedBody BuildInferBody(const std::vector<TensorMetadata>& inputs, BodyFormat format,
                            uint64_t seed, std::string_view region = {});

// Each input's bytes, in input order, as kBinary sends them after its JSON (the same values for
// the same seed): what gRPC requests carry in raw_input_contents.
// REQUIRES: every shape concrete.
std::vector<std::string> BuildInputBytes(const std::vector<TensorMetadata>& inputs, uint64_t seed);

}  // namespace switchyard::bench
