#pragma once
// `switchyard plan`: prints the placement `serve` would make for a model repository, without
// loading or serving anything. Exits 1, with the error on stderr, when placement fails.

#include "CLI/CLI.hpp"

namespace switchyard::cli {

void AddPlanCommand(CLI::App& app);

}  // namespace switchyard::cli
