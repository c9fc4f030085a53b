#pragma once
// `switchyard devices`: lists the GPUs as switchyard sees them (index, uuid, name, memory, speed)
// and, given a model repository, what the placement plan puts on each.

#include "CLI/CLI.hpp"

namespace switchyard::cli {

void AddDevicesCommand(CLI::App& app);

}  // namespace switchyard::cli
