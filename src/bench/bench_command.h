#pragma once
// `switchyard bench`: the load generator's command line. See docs/benchmarks.md.

#include <CLI/App.hpp>

namespace switchyard::bench {

// Registers the `bench` subcommand on `app`: its options, and a callback that runs the benchmark
// (table on stdout, progress on stderr, JSON to --json-out). On failure the callback prints the
// reason to stderr and throws CLI::RuntimeError with exit code 2 (bad options, unusable model
// metadata) or 1 (server unreachable, a level where no request succeeded, unwritable output).
void AddBenchCommand(CLI::App& app);

}  // namespace switchyard::bench
