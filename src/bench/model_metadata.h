#pragma once
// What the load generator learns about a model before sending to it: its inputs from
// GET /v2/models/{m}, whether it batches from GET /v2/models/{m}/config, and from both plus the
// user's options the concrete shape of every input tensor.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_options.h"
#include "switchyard/datatype.h"
#include "switchyard/status.h"
#include "switchyard/tensor.h"

namespace switchyard::bench {

struct TensorMetadata {
  std::string name;
  DataType datatype = DataType::kFp32;
  Shape shape;  // -1 for a variable dimension (and for the batch dimension)
};

struct ModelMetadata {
  std::string name;
  std::vector<TensorMetadata> inputs;
  std::vector<TensorMetadata> outputs;
};

// Parses a model metadata document. InvalidArgument (naming the field) if it is not one.
StatusOr<ModelMetadata> ParseModelMetadata(std::string_view json);

// max_batch_size from a model config document (0: the model takes no batch dimension).
StatusOr<int64_t> ParseMaxBatchSize(std::string_view config_json);

// Without a config document: a model whose every input starts with -1 is taken to batch.
bool LooksBatched(const ModelMetadata& metadata);

struct InputPlan {
  std::vector<TensorMetadata> inputs;  // every shape concrete
  int64_t items_per_request = 1;       // batch_size when the model batches, else 1
};

// Makes every input shape concrete: the leading batch dimension (when `batched`) becomes
// `batch_size`; other -1 dims come from `shapes` (dims without the batch dimension), which must
// agree with the metadata's fixed dims. Fails, naming the input and the --shape to give, when a
// dimension stays unknown, an override does not fit, batch_size > 1 for a model that does not
// batch, or an FP16/BF16 input is to travel as JSON.
StatusOr<InputPlan> ResolveInputs(const ModelMetadata& metadata, bool batched, int64_t batch_size,
                                  const std::map<std::string, Shape>& shapes, BodyFormat format);

}  // namespace switchyard::bench
