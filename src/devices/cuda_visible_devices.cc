#include "devices/cuda_visible_devices.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "fmt/format.h"

namespace switchyard {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

// `uuid` without a leading "GPU-".
std::string_view UuidBody(std::string_view uuid) {
  return StartsWithIgnoreCase(uuid, "GPU-") ? uuid.substr(4) : uuid;
}

// The error for one entry; ResolveCudaVisibleDevices puts the list's name before it.
Status EntryError(std::string_view entry, std::string_view what) {
  return InvalidArgument(fmt::format("entry '{}': {}", entry, what));
}

std::string Available(size_t count) {
  if (count == 0) return "this machine has no GPU";
  if (count == 1) return "this machine has 1 GPU: 0";
  return fmt::format("this machine has {} GPUs: 0-{}", count, count - 1);
}

// The NVML index an entry names.
StatusOr<int> ResolveEntry(std::string_view entry, const std::vector<std::string>& uuids) {
  if (entry.empty()) return EntryError(entry, "empty entry");
  if (AllDigits(entry)) {
    size_t index = 0;
    auto [end, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), index);
    if (ec != std::errc() || end != entry.data() + entry.size() || index >= uuids.size()) {
      return EntryError(entry, fmt::format("no GPU has this index ({})", Available(uuids.size())));
    }
    return static_cast<int>(index);
  }
  if (StartsWithIgnoreCase(entry, "MIG-")) {
    return EntryError(entry, "MIG devices are not supported; list whole GPUs");
  }
  const std::string_view body = UuidBody(entry);
  const bool uuid_like = !body.empty() && std::all_of(body.begin(), body.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == '-';
  });
  if (!uuid_like) {
    return EntryError(entry, "expected a GPU index, a GPU UUID (GPU-...) or -1");
  }
  std::vector<int> matches;
  for (size_t i = 0; i < uuids.size(); ++i) {
    if (StartsWithIgnoreCase(UuidBody(uuids[i]), body)) matches.push_back(static_cast<int>(i));
  }
  if (matches.empty()) return EntryError(entry, "no GPU has a UUID that starts with it");
  if (matches.size() > 1) {
    std::vector<std::string_view> names;
    for (int i : matches) names.push_back(uuids[static_cast<size_t>(i)]);
    return EntryError(entry, fmt::format("matches {} GPUs ({}); give more of the UUID",
                                         matches.size(), fmt::join(names, ", ")));
  }
  return matches.front();
}

StatusOr<std::vector<int>> Resolve(const std::optional<std::string>& cuda_visible_devices,
                                   const std::vector<std::string>& uuids) {
  std::vector<int> visible;
  if (!cuda_visible_devices.has_value()) {
    for (size_t i = 0; i < uuids.size(); ++i) visible.push_back(static_cast<int>(i));
    return visible;
  }
  const std::string_view value = Trim(*cuda_visible_devices);
  if (value.empty()) return visible;
  std::map<int, std::string_view> seen;  // NVML index -> the entry that named it
  for (size_t start = 0; start <= value.size();) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    const std::string_view entry = Trim(value.substr(start, comma - start));
    start = comma + 1;
    if (entry.size() > 1 && entry.front() == '-' && AllDigits(entry.substr(1))) break;
    ASSIGN_OR_RETURN(int index, ResolveEntry(entry, uuids));
    auto [it, inserted] = seen.emplace(index, entry);
    if (!inserted) {
      return EntryError(entry, fmt::format("GPU {} ({}) is already listed (as '{}')", index,
                                           uuids[static_cast<size_t>(index)], it->second));
    }
    visible.push_back(index);
  }
  return visible;
}

}  // namespace

StatusOr<std::vector<int>> ResolveCudaVisibleDevices(
    const std::optional<std::string>& cuda_visible_devices, const std::vector<std::string>& uuids,
    std::string_view source) {
  StatusOr<std::vector<int>> visible = Resolve(cuda_visible_devices, uuids);
  if (!visible.ok()) {
    return InvalidArgument(fmt::format("{} {}", source, visible.status().message()));
  }
  return visible;
}

}  // namespace switchyard
