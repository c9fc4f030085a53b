#pragma once
// Model configs (config.yaml text) that several tests serve.

namespace switchyard::testing {

// The sim backend's add_sub on INT32 [4] (OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1),
// batches of up to 4 cut at once, instances as `instances` defaults them (worker processes).
// Append an `instances:` line to place it otherwise (kInProcess).
inline constexpr const char* kAddSubConfig = R"(
backend: sim
max_batch_size: 4
inputs:
  - {name: INPUT0, datatype: INT32, shape: [4]}
  - {name: INPUT1, datatype: INT32, shape: [4]}
outputs:
  - {name: OUTPUT0, datatype: INT32, shape: [4]}
  - {name: OUTPUT1, datatype: INT32, shape: [4]}
batching: {max_queue_delay_us: 0}
parameters: {function: add_sub}
)";

// One instance on a thread of the server (no worker process).
inline constexpr const char* kInProcess =
    "instances: {devices: cpu, per_device: 1, isolation: thread}\n";

}  // namespace switchyard::testing
