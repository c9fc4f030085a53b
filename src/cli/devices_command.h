#pragma once
// `switchyard devices`: lists the GPUs as switchyard sees them (server index, NVML index, uuid,
// name, memory, speed) and, given a model repository, what the placement plan puts on each; for
// real GPUs, what NVML reads now (utilisation, memory, temperature, power, throttling, health);
// without GPUs, why not.

#include "CLI/CLI.hpp"

namespace switchyard::cli {

void AddDevicesCommand(CLI::App& app);

}  // namespace switchyard::cli
