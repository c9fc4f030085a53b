#include "devices/placement.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <string_view>
#include <utility>

#include "devices/text_table.h"
#include "fmt/format.h"

namespace switchyard {
namespace {

// A model placed on GPUs: its device groups and how many of its instances each group holds.
struct GpuModel {
  const PlacementRequest* request = nullptr;
  std::vector<std::vector<int>> groups;  // GPU indices per group, ascending
  std::vector<int> counts;               // instances per group
};

// The memory still free on every device while planning.
struct Budgets {
  int64_t reserve_mb = 0;
  std::vector<int64_t> free_mb;

  // Whether `count` more instances of `need_mb` each fit on every GPU of `group`.
  bool Fits(const std::vector<int>& group, int64_t need_mb, int64_t count) const {
    return std::all_of(group.begin(), group.end(),
                       [&](int d) { return need_mb <= free_mb[d] / count; });
  }
  void Take(const std::vector<int>& group, int64_t need_mb) {
    for (int d : group) free_mb[d] -= need_mb;
  }
};

int64_t BudgetMb(const Device& device, int64_t reserve_mb) {
  const int64_t unused = std::max<int64_t>(0, device.total_mb - device.used_by_others_mb);
  return unused > reserve_mb ? unused - reserve_mb : 0;
}

std::string IndexRange(int device_count) {
  if (device_count == 0) return "none (no GPUs)";
  if (device_count == 1) return "0";
  return fmt::format("0-{}", device_count - 1);
}

Status CheckInputs(const std::vector<PlacementRequest>& requests,
                   const std::vector<Device>& devices, int64_t vram_reserve_mb) {
  if (vram_reserve_mb < 0) {
    return InvalidArgument(fmt::format("VRAM reserve must be >= 0 MiB, got {}", vram_reserve_mb));
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    if (devices[i].index != static_cast<int>(i)) {
      return InvalidArgument(
          fmt::format("device at position {} has index {}; devices must be "
                      "numbered 0..n-1 in order",
                      i, devices[i].index));
    }
  }
  std::set<std::string> names;
  for (const PlacementRequest& request : requests) {
    const InstanceConfig& config = request.instances;
    std::string error;
    if (request.model.empty()) {
      error = "empty model name";
    } else if (!names.insert(request.model).second) {
      error = "model listed twice";
    } else if (request.need_mb < 0) {
      error = fmt::format("need must be >= 0 MiB, got {}", request.need_mb);
    } else if (config.per_device < 0 || config.per_device > kMaxInstancesPerGroup) {
      error = fmt::format("per_device must be auto or 1..{}, got {}", kMaxInstancesPerGroup,
                          config.per_device);
    } else if (config.max_per_device < 1) {
      error = fmt::format("max_per_device must be >= 1, got {}", config.max_per_device);
    } else if (config.gpus_per_instance < 1) {
      error = fmt::format("gpus_per_instance must be >= 1, got {}", config.gpus_per_instance);
    }
    if (!error.empty()) return InvalidArgument(fmt::format("model '{}': {}", request.model, error));
  }
  return Status::Ok();
}

bool RunsOnCpu(const InstanceConfig& config, int device_count) {
  if (config.cpu) return true;
  if (config.all_devices) return device_count == 0;
  return config.device_ids.empty();
}

// The consecutive groups of gpus_per_instance GPUs among the eligible ones, in index order.
StatusOr<std::vector<std::vector<int>>> GpuGroups(const PlacementRequest& request,
                                                  int device_count) {
  std::vector<int> eligible;
  if (request.instances.all_devices) {
    eligible.resize(device_count);
    std::iota(eligible.begin(), eligible.end(), 0);
  } else {
    for (int id : request.instances.device_ids) {
      if (id < 0 || id >= device_count) {
        return InvalidArgument(fmt::format("model '{}': device {} does not exist; available: {}",
                                           request.model, id, IndexRange(device_count)));
      }
      if (std::find(eligible.begin(), eligible.end(), id) != eligible.end()) {
        return InvalidArgument(
            fmt::format("model '{}': device {} listed twice", request.model, id));
      }
      eligible.push_back(id);
    }
    std::sort(eligible.begin(), eligible.end());
  }
  const size_t k = static_cast<size_t>(request.instances.gpus_per_instance);
  if (k > eligible.size()) {
    return InvalidArgument(
        fmt::format("model '{}': gpus_per_instance is {} but only {} GPU{} {} "
                    "eligible ({})",
                    request.model, k, eligible.size(), eligible.size() == 1 ? "" : "s",
                    eligible.size() == 1 ? "is" : "are", fmt::join(eligible, ", ")));
  }
  std::vector<std::vector<int>> groups;
  for (size_t start = 0; start + k <= eligible.size(); start += k) {
    groups.emplace_back(eligible.begin() + start, eligible.begin() + start + k);
  }
  return groups;
}

// The error for a model that does not fit; `count` instances per group were asked for.
Status NoRoom(const Budgets& budgets, const PlacementRequest& request, int count) {
  const int k = request.instances.gpus_per_instance;
  std::string need = count > 1 ? fmt::format("{} x {} MiB", count, request.need_mb)
                               : fmt::format("{} MiB", request.need_mb);
  if (request.need_source != NeedSource::kDeclared) {
    need += fmt::format(" ({})", NeedSourceName(request.need_source));
  }
  std::string eligible;
  if (!request.instances.all_devices) {
    std::vector<int> ids = request.instances.device_ids;
    std::sort(ids.begin(), ids.end());
    eligible = fmt::format(" (eligible: GPU{})", fmt::join(ids, ", GPU"));
  }
  std::vector<std::string> free;
  for (size_t d = 0; d < budgets.free_mb.size(); ++d) {
    free.push_back(fmt::format("GPU{} {} MiB", d, budgets.free_mb[d]));
  }
  return FailedPrecondition(fmt::format(
      "cannot place model '{}': needs {} on each of {} GPU{}{}; free: {} (reserve {} MiB each)",
      request.model, need, k, k == 1 ? "" : "s", eligible, fmt::join(free, ", "),
      budgets.reserve_mb));
}

Status PlaceFixed(Budgets* budgets, GpuModel* model) {
  const PlacementRequest& request = *model->request;
  const int count = request.instances.per_device;
  for (const auto& group : model->groups) {
    if (!budgets->Fits(group, request.need_mb, count)) return NoRoom(*budgets, request, count);
  }
  for (size_t g = 0; g < model->groups.size(); ++g) {
    for (int i = 0; i < count; ++i) budgets->Take(model->groups[g], request.need_mb);
    model->counts[g] = count;
  }
  return Status::Ok();
}

// Whether the model needs no device memory as far as anyone can know (a need not yet measured
// may still be large).
bool NeedsNoMemory(const PlacementRequest& request) {
  return request.need_mb == 0 && request.need_source != NeedSource::kUnknown;
}

// How many instances per group `auto` aims for (see PlanPlacement).
int AutoTarget(const PlacementRequest& request) {
  const int wanted =
      request.overlaps_on_device && !NeedsNoMemory(request) ? kAutoInstancesPerGroup : 1;
  return std::min({wanted, request.instances.max_per_device, kMaxInstancesPerGroup});
}

// "GPU3", "GPU2+GPU3".
std::string GroupName(const std::vector<int>& group) {
  return fmt::format("GPU{}", fmt::join(group, "+GPU"));
}

// Why an `auto` model got the instances it got: its target and what set it, then the groups where
// memory allowed fewer.
std::string AutoReason(const GpuModel& model) {
  const PlacementRequest& request = *model.request;
  const int target = AutoTarget(request);
  const int k = request.instances.gpus_per_instance;
  const std::string per = k == 1 ? "per GPU" : fmt::format("per group of {} GPUs", k);
  std::string why;
  if (!request.overlaps_on_device) {
    why = fmt::format("auto: 1 {}, its device runs one batch at a time", per);
  } else if (NeedsNoMemory(request)) {
    why = fmt::format("auto: 1 {}, it needs no device memory", per);
  } else if (target < kAutoInstancesPerGroup) {
    why = fmt::format("auto: {} {}, max_per_device", target, per);
  } else {
    why = fmt::format("auto: {} {}, the second overlaps copies with compute", target, per);
  }
  std::vector<std::string> fewer;
  for (size_t g = 0; g < model.groups.size(); ++g) {
    if (model.counts[g] < target) {
      fewer.push_back(fmt::format("{} on {}", model.counts[g], GroupName(model.groups[g])));
    }
  }
  if (!fewer.empty()) why += fmt::format("; memory allows {}", fmt::join(fewer, ", "));
  return why;
}

// Places one more instance of `model` on group `g` if it fits and its auto target allows.
bool PlaceOneAuto(Budgets* budgets, GpuModel* model, size_t g) {
  const PlacementRequest& request = *model->request;
  if (model->counts[g] >= AutoTarget(request) ||
      !budgets->Fits(model->groups[g], request.need_mb, 1)) {
    return false;
  }
  budgets->Take(model->groups[g], request.need_mb);
  ++model->counts[g];
  return true;
}

Status PlaceAuto(Budgets* budgets, std::vector<GpuModel>* models) {
  for (GpuModel& model : *models) {
    if (model.request->instances.per_device != 0) continue;
    bool placed = false;
    for (size_t g = 0; g < model.groups.size(); ++g) placed |= PlaceOneAuto(budgets, &model, g);
    if (!placed) return NoRoom(*budgets, *model.request, 1);
  }
  for (bool progress = true; progress;) {
    progress = false;
    for (GpuModel& model : *models) {
      if (model.request->instances.per_device != 0) continue;
      for (size_t g = 0; g < model.groups.size(); ++g) progress |= PlaceOneAuto(budgets, &model, g);
    }
  }
  return Status::Ok();
}

// A model's need as the model table shows it: "60000", "1800 measured", "-" on CPU.
std::string NeedText(const PlannedNeed& need) {
  if (need.on_cpu) return "-";
  if (need.source == NeedSource::kDeclared) return std::to_string(need.mb);
  if (need.source == NeedSource::kUnknown) return "measured at load";
  return fmt::format("{} {}", need.mb, NeedSourceName(need.source));
}

// "1 model", "3 models".
std::string Count(size_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

// A model's instances as runs on the same devices: "GPU0 x2, GPU1 x2", "GPU0+GPU1", "CPU x2".
std::string Runs(const std::vector<InstancePlacement>& placements) {
  std::vector<std::string> runs;
  for (size_t i = 0; i < placements.size();) {
    size_t end = i + 1;
    while (end < placements.size() && placements[end].devices == placements[i].devices) ++end;
    const std::string where =
        placements[i].devices.empty() ? "CPU" : GroupName(placements[i].devices);
    runs.push_back(end - i == 1 ? where : fmt::format("{} x{}", where, end - i));
    i = end;
  }
  return fmt::format("{}", fmt::join(runs, ", "));
}

}  // namespace

const char* NeedSourceName(NeedSource source) {
  switch (source) {
    case NeedSource::kDeclared:
      return "declared";
    case NeedSource::kMeasured:
      return "measured";
    case NeedSource::kEstimated:
      return "estimated";
    case NeedSource::kUnknown:
      return "unknown";
  }
  return "unknown";
}

StatusOr<std::vector<std::vector<int>>> DeviceGroups(const PlacementRequest& request,
                                                     int device_count) {
  if (RunsOnCpu(request.instances, device_count)) return std::vector<std::vector<int>>{};
  return GpuGroups(request, device_count);
}

StatusOr<Plan> PlanPlacement(const std::vector<PlacementRequest>& requests,
                             const std::vector<Device>& devices, int64_t vram_reserve_mb) {
  RETURN_IF_ERROR(CheckInputs(requests, devices, vram_reserve_mb));
  const int device_count = static_cast<int>(devices.size());
  std::vector<const PlacementRequest*> sorted;
  for (const PlacementRequest& request : requests) sorted.push_back(&request);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->model < b->model; });

  Plan plan;
  Budgets budgets{.reserve_mb = vram_reserve_mb};
  for (const Device& device : devices) budgets.free_mb.push_back(BudgetMb(device, vram_reserve_mb));
  std::vector<GpuModel> gpu_models;
  for (const PlacementRequest* request : sorted) {
    const bool on_cpu = RunsOnCpu(request->instances, device_count);
    plan.needs[request->model] =
        PlannedNeed{.mb = request->need_mb, .source = request->need_source, .on_cpu = on_cpu};
    if (on_cpu) {
      const int count = std::max(request->instances.per_device, 1);
      plan.models[request->model].resize(count);
      plan.cpu_instances += count;
      const std::string where = request->instances.cpu ? "devices: cpu" : "no GPUs: on CPU";
      plan.reasons[request->model] = request->instances.per_device > 0
                                         ? fmt::format("{}, per_device: {}", where, count)
                                         : fmt::format("{}, auto: 1", where);
      continue;
    }
    GpuModel model{.request = request};
    ASSIGN_OR_RETURN(model.groups, GpuGroups(*request, device_count));
    model.counts.assign(model.groups.size(), 0);
    gpu_models.push_back(std::move(model));
  }
  for (GpuModel& model : gpu_models) {
    if (model.request->instances.per_device > 0) RETURN_IF_ERROR(PlaceFixed(&budgets, &model));
  }
  RETURN_IF_ERROR(PlaceAuto(&budgets, &gpu_models));

  for (const Device& device : devices) {
    const int64_t budget = BudgetMb(device, vram_reserve_mb);
    plan.devices.push_back(DevicePlan{.index = device.index,
                                      .budget_mb = budget,
                                      .planned_mb = budget - budgets.free_mb[device.index]});
  }
  for (const GpuModel& model : gpu_models) {
    plan.reasons[model.request->model] =
        model.request->instances.per_device > 0
            ? fmt::format("per_device: {}", model.request->instances.per_device)
            : AutoReason(model);
    auto& placements = plan.models[model.request->model];
    for (size_t g = 0; g < model.groups.size(); ++g) {
      for (int i = 0; i < model.counts[g]; ++i) {
        const std::string name = fmt::format("{}/{}", model.request->model, placements.size());
        for (int d : model.groups[g]) plan.devices[d].instances.push_back(name);
        placements.push_back(InstancePlacement{model.groups[g]});
      }
    }
  }
  return plan;
}

std::string FormatPlan(const Plan& plan, const std::vector<Device>& devices) {
  size_t total = 0;
  for (const auto& [model, placements] : plan.models) total += placements.size();
  const size_t cpu = static_cast<size_t>(plan.cpu_instances);
  std::string text = fmt::format("placement: {} of {}", Count(total, "instance"),
                                 Count(plan.models.size(), "model"));
  text += devices.empty() ? ", all on CPU (no GPUs)\n"
                          : fmt::format(": {} on {}, {} on CPU\n", total - cpu,
                                        Count(devices.size(), "GPU"), cpu);
  TextTable model_table({"model", "instances", "need MiB", "on", "why"},
                        {false, true, true, false, false});
  std::vector<std::string> cpu_instances;
  for (const auto& [model, placements] : plan.models) {
    auto need = plan.needs.find(model);
    auto reason = plan.reasons.find(model);
    model_table.AddRow({model, std::to_string(placements.size()),
                        need == plan.needs.end() ? "" : NeedText(need->second), Runs(placements),
                        reason == plan.reasons.end() ? "" : reason->second});
    for (size_t i = 0; i < placements.size(); ++i) {
      if (placements[i].devices.empty()) cpu_instances.push_back(fmt::format("{}/{}", model, i));
    }
  }
  if (!devices.empty()) {
    TextTable device_table({"GPU", "name", "total MiB", "others MiB", "budget MiB", "planned MiB",
                            "free MiB", "instances"},
                           {true, false, true, true, true, true, true, false});
    for (const DevicePlan& device : plan.devices) {
      const Device& info = devices[device.index];
      device_table.AddRow({std::to_string(device.index), info.name, std::to_string(info.total_mb),
                           std::to_string(info.used_by_others_mb), std::to_string(device.budget_mb),
                           std::to_string(device.planned_mb),
                           std::to_string(device.budget_mb - device.planned_mb),
                           fmt::format("{}", fmt::join(device.instances, ", "))});
    }
    if (!cpu_instances.empty()) {
      device_table.AddRow(
          {"CPU", "", "", "", "", "", "", fmt::format("{}", fmt::join(cpu_instances, ", "))});
    }
    text += "\n" + device_table.Render();
  }
  if (!plan.models.empty()) text += "\n" + model_table.Render();
  return text;
}

}  // namespace switchyard
