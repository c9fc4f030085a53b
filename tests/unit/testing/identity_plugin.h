#pragma once
// The model the test plugin (tests/unit/plugin/test_plugin.cc) is loaded with in the host's
// tests, and its requests: one INT32 [2] input, echoed as the output.

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "switchyard/infer.h"
#include "switchyard/model_config.h"

namespace switchyard::testing {

inline ModelConfig IdentityConfig() {
  ModelConfig config;
  config.name = "ident";
  config.backend = "sim";
  config.max_batch_size = 4;
  config.inputs = {{.name = "IN", .datatype = DataType::kInt32, .dims = {2}}};
  config.outputs = {{.name = "OUT", .datatype = DataType::kInt32, .dims = {2}}};
  return config;
}

// A request of one batch item, IN = [a, b]. The test plugin loses its device for a == -66.
inline std::unique_ptr<InferRequest> IdentityRequest(int32_t a, int32_t b) {
  auto request = std::make_unique<InferRequest>();
  std::vector<std::byte> bytes(8);
  std::memcpy(bytes.data(), &a, 4);
  std::memcpy(bytes.data() + 4, &b, 4);
  request->inputs.push_back({"IN", DataType::kInt32, {1, 2}, TensorData::Owned(bytes)});
  return request;
}

}  // namespace switchyard::testing
