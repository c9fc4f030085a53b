#include "devices/device.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

#include "devices/cuda_visible_devices.h"
#include "fmt/format.h"

namespace switchyard {
namespace {

constexpr int64_t kMaxSizeGb = int64_t{1} << 20;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Parses all of `text` as a decimal integer without sign; false if anything else is there.
bool ParseDigits(std::string_view text, int64_t* value) {
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

// Splits `text` at every `separator`.
std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string SizeName(int64_t mb) {
  return mb % 1024 == 0 ? fmt::format("{} GiB", mb / 1024) : fmt::format("{} MiB", mb);
}

// One item of the spec: `count` identical devices.
struct Item {
  int64_t count = 1;
  int64_t total_mb = 0;
  int64_t used_mb = 0;
  double speed = 1.0;
  bool failed = false;
};

Status ItemError(std::string_view item, std::string_view what) {
  return InvalidArgument(fmt::format("simulated GPU spec item '{}': {}", item, what));
}

// Parses "[Nx]SIZE" into `parsed`.
Status ParseCountAndSize(std::string_view item, std::string_view text, Item* parsed) {
  const size_t x = text.find_first_of("xX");
  if (x != std::string_view::npos) {
    if (!ParseDigits(Trim(text.substr(0, x)), &parsed->count) || parsed->count < 1) {
      return ItemError(
          item, fmt::format("expected a count >= 1 before 'x', got '{}'", Trim(text.substr(0, x))));
    }
    text = Trim(text.substr(x + 1));
  }
  int64_t unit_mb = 0;
  if (text.size() > 2 && EqualsIgnoreCase(text.substr(text.size() - 2), "GB")) {
    unit_mb = 1024;
  } else if (text.size() > 2 && EqualsIgnoreCase(text.substr(text.size() - 2), "MB")) {
    unit_mb = 1;
  }
  int64_t size = 0;
  if (unit_mb == 0 || !ParseDigits(Trim(text.substr(0, text.size() - 2)), &size) || size < 1 ||
      size > kMaxSizeGb * 1024 / unit_mb) {
    return ItemError(item, fmt::format("expected a size such as 80GB or 512MB (at most {} GB), "
                                       "got '{}'",
                                       kMaxSizeGb, text));
  }
  parsed->total_mb = size * unit_mb;
  return Status::Ok();
}

// The keys given so far in one item.
struct Seen {
  bool speed = false;
  bool used = false;
  bool health = false;
};

Status ParseKeyValue(std::string_view item, std::string_view text, Item* parsed, Seen* seen) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return ItemError(item, fmt::format("expected key=value after ':', got '{}'", text));
  }
  const std::string_view key = Trim(text.substr(0, eq));
  const std::string_view value = Trim(text.substr(eq + 1));
  if (key == "speed") {
    if (seen->speed) return ItemError(item, "speed given twice");
    seen->speed = true;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed->speed);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() ||
        !(parsed->speed > 0 && parsed->speed <= 100)) {
      return ItemError(item, fmt::format("speed must be a number > 0 and <= 100, got '{}'", value));
    }
    return Status::Ok();
  }
  if (key == "used") {
    if (seen->used) return ItemError(item, "used given twice");
    seen->used = true;
    if (!ParseDigits(value, &parsed->used_mb)) {
      return ItemError(item,
                       fmt::format("used must be an integer number of MiB >= 0, got '{}'", value));
    }
    return Status::Ok();
  }
  if (key == "health") {
    if (seen->health) return ItemError(item, "health given twice");
    seen->health = true;
    if (value != "healthy" && value != "failed") {
      return ItemError(item, fmt::format("health must be healthy or failed, got '{}'", value));
    }
    parsed->failed = value == "failed";
    return Status::Ok();
  }
  return ItemError(item, fmt::format("unknown key '{}' (expected speed, used or health)", key));
}

StatusOr<Item> ParseItem(std::string_view item) {
  if (item.empty()) return InvalidArgument("simulated GPU spec: empty item");
  const std::vector<std::string_view> parts = Split(item, ':');
  Item parsed;
  RETURN_IF_ERROR(ParseCountAndSize(item, Trim(parts[0]), &parsed));
  Seen seen;
  for (size_t i = 1; i < parts.size(); ++i) {
    RETURN_IF_ERROR(ParseKeyValue(item, Trim(parts[i]), &parsed, &seen));
  }
  if (parsed.used_mb >= parsed.total_mb) {
    return ItemError(item, fmt::format("used ({} MiB) must be less than the size ({} MiB)",
                                       parsed.used_mb, parsed.total_mb));
  }
  return parsed;
}

}  // namespace

StatusOr<std::vector<Device>> SelectGpus(std::vector<Device> devices,
                                         const std::optional<std::string>& gpus) {
  if (!gpus) return devices;
  std::vector<std::string> uuids;
  for (const Device& device : devices) uuids.push_back(device.uuid);
  ASSIGN_OR_RETURN(std::vector<int> chosen, ResolveCudaVisibleDevices(gpus, uuids, "--gpus"));
  std::vector<Device> selected;
  for (int index : chosen) {
    selected.push_back(devices[static_cast<std::size_t>(index)]);
    selected.back().index = static_cast<int>(selected.size()) - 1;
  }
  return selected;
}

StatusOr<std::vector<Device>> ParseSimulatedGpus(std::string_view spec) {
  std::vector<Device> devices;
  if (Trim(spec).empty()) return devices;
  for (std::string_view raw : Split(spec, ',')) {
    const std::string_view item = Trim(raw);
    ASSIGN_OR_RETURN(Item parsed, ParseItem(item));
    if (parsed.count > kMaxSimulatedGpus - static_cast<int64_t>(devices.size())) {
      return ItemError(item, fmt::format("more than {} simulated GPUs in all", kMaxSimulatedGpus));
    }
    for (int64_t i = 0; i < parsed.count; ++i) {
      Device device;
      device.index = static_cast<int>(devices.size());
      device.uuid = fmt::format("SIM-GPU-{}", device.index);
      device.name = fmt::format("simulated GPU ({})", SizeName(parsed.total_mb));
      device.total_mb = parsed.total_mb;
      device.used_by_others_mb = parsed.used_mb;
      device.speed = parsed.speed;
      device.simulated = true;
      device.simulated_failed = parsed.failed;
      devices.push_back(std::move(device));
    }
  }
  return devices;
}

}  // namespace switchyard
