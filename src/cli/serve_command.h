#pragma once
// `switchyard serve`: loads a model repository and serves it over HTTP until SIGINT/SIGTERM.

#include "CLI/CLI.hpp"

namespace switchyard::cli {

void AddServeCommand(CLI::App& app);

}  // namespace switchyard::cli
