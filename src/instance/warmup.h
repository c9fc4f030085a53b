#pragma once
// Warm-up: before an instance takes traffic it executes a few synthetic requests (zeros, batch
// 1, variable dimensions as 1; BYTES elements "0"). A model is ready only after every instance
// warmed up without error.

#include "instance/instance.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard {

// A batch-1 request of zeros that fits `config`.
InferRequest WarmupRequest(const ModelConfig& config);

// Executes `config.warmup.requests` warm-up requests on `instance`, one after another, and
// returns the first failure (naming the instance).
Status WarmUp(Instance& instance, const ModelConfig& config);

}  // namespace switchyard
