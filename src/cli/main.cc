// switchyard: the command-line entry point. Each subcommand lives in its own file.

#include "CLI/CLI.hpp"
#include "bench/bench_command.h"
#include "cli/devices_command.h"
#include "cli/plan_command.h"
#include "cli/serve_command.h"
#include "cli/worker_command.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"
#include "switchyard/server.h"

int main(int argc, char** argv) {
  // Logs go to stderr; stdout carries command output (tables, plans).
  spdlog::set_default_logger(spdlog::stderr_color_mt("switchyard"));
  CLI::App app{"switchyard: inference serving across every GPU of a machine"};
  app.set_version_flag("--version", std::string(switchyard::Server::Version()));
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.parse_complete_callback([&] { spdlog::set_level(spdlog::level::from_str(log_level)); });
  switchyard::cli::AddServeCommand(app);
  switchyard::cli::AddPlanCommand(app);
  switchyard::cli::AddDevicesCommand(app);
  switchyard::cli::AddWorkerCommand(app);
  switchyard::bench::AddBenchCommand(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
