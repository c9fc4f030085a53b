#include "cli/worker_command.h"

#include <memory>

#include "spdlog/spdlog.h"
#include "worker/worker.h"

namespace switchyard::cli {

void AddWorkerCommand(CLI::App& app) {
  auto options = std::make_shared<worker::WorkerOptions>();
  CLI::App* command = app.add_subcommand(
      "worker", "Internal: serve one model instance for the server that started this process");
  command->group("");  // not listed in --help: users never run it
  command->add_option("--model-repository", options->model_repository)->required();
  command->add_option("--model", options->model)->required();
  command->add_option("--version", options->version)->required();
  command->add_option("--instance", options->index)->required();
  command->add_option("--gpus", options->gpu_count)->required();
  command->add_option("--plugin", options->plugin_path)->required();
  command->add_option("--parent-pid", options->parent_pid)->required();
  auto poll_us = std::make_shared<int64_t>(0);
  command->add_option("--poll-us", *poll_us)->check(CLI::Range(int64_t{0}, int64_t{1000000}));
  command->add_option("--cpus", options->cpus)->delimiter(',');
  command->add_option("--simulated-gpu", options->simulated_gpu);
  auto heartbeat_ms = std::make_shared<int64_t>(1000);
  command->add_option("--heartbeat-ms", *heartbeat_ms)
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}));
  command->callback([options, poll_us, heartbeat_ms] {
    options->poll = std::chrono::microseconds(*poll_us);
    options->heartbeat_interval = std::chrono::milliseconds(*heartbeat_ms);
    spdlog::set_pattern(
        fmt::format("[%H:%M:%S.%e] [worker {}/{} pid %P] [%l] %v", options->model, options->index));
    int code = worker::RunWorker(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace switchyard::cli
