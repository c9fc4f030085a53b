#pragma once
// Checks an inference request against its model's config before it is queued, so instances only
// ever see well-formed batches.

#include "switchyard/infer.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard {

// InvalidArgument (naming the tensor and what was expected) unless: every model input is given
// exactly once and no other; datatypes match; shapes match the config (with a leading batch
// dimension in [1, max_batch_size], the same for every input, when the model batches; -1 dims
// match any size); data sizes match shapes; every requested output exists and none twice.
// On success sets request->batch_size and request->output_indices.
Status ValidateRequest(const ModelConfig& config, InferRequest* request);

}  // namespace switchyard
