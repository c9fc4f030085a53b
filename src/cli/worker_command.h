#pragma once
// `switchyard worker`: internal; the server starts one per instance (src/worker/worker.h).

#include "CLI/CLI.hpp"

namespace switchyard::cli {

void AddWorkerCommand(CLI::App& app);

}  // namespace switchyard::cli
