#include "cli/plan_command.h"

#include <memory>
#include <string>

#include "cli/device_flags.h"
#include "devices/placement.h"
#include "fmt/format.h"

namespace switchyard::cli {
namespace {

struct PlanFlags {
  std::string model_repository;
  DeviceFlags devices;
  std::string backend_directory;  // empty: beside the binary
};

int Plan(const PlanFlags& flags) {
  auto devices = DevicesFromFlags(flags.devices);
  if (!devices.ok()) {
    fmt::print(stderr, "switchyard plan: {}\n", devices.status().message());
    return 1;
  }
  auto plan =
      PlanFromFlags(flags.model_repository, *devices, flags.devices, flags.backend_directory);
  if (!plan.ok()) {
    fmt::print(stderr, "switchyard plan: {}\n", plan.status().message());
    return 1;
  }
  fmt::print("{}", FormatPlan(*plan, *devices));
  return 0;
}

}  // namespace

void AddPlanCommand(CLI::App& app) {
  auto flags = std::make_shared<PlanFlags>();
  CLI::App* plan = app.add_subcommand(
      "plan", "Print the placement of instances on devices that serve would make, and exit");
  plan->add_option("--model-repository", flags->model_repository,
                   "Folder with one sub-folder per model")
      ->required();
  AddDeviceFlags(plan, &flags->devices);
  AddBackendDirectoryFlag(plan, &flags->backend_directory);
  plan->callback([flags] {
    int code = Plan(*flags);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace switchyard::cli
