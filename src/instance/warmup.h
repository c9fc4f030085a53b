#pragma once
// Warm-up: before an instance takes traffic it executes a few synthetic requests (zeros,
// variable dimensions as 1; BYTES elements "0"; for an HTTP envelope model, its samples from
// <model>/warmup/: repository/warmup_samples.h). A model is ready only after every instance
// warmed up without error.
//
// Each warm-up request is one request of the model's largest batch: its first dimension is
// max_batch_size (none when max_batch_size is 0). One request rather than max_batch_size
// requests of one item: it reaches the backend as the same batch of max_batch_size rows
// (backends concatenate a batch along dim 0), costs one request's overhead, and passes the same
// request validation. So the warm-up reaches the peak device memory of the largest batch, which
// is what a worker then reports for `vram_mb: measure` (docs/configuration.md), and the
// backend's code paths for that batch size are compiled before the first real request.

#include "instance/instance.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard {

// A request of zeros (or of the samples) that fits `config`, of max(1, max_batch_size) items.
InferRequest WarmupRequest(const ModelConfig& config);

// Executes `config.warmup.requests` warm-up requests on `instance`, one after another, and
// returns the first failure (naming the instance).
Status WarmUp(Instance& instance, const ModelConfig& config);

}  // namespace switchyard
