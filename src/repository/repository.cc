#include "repository/repository.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <system_error>

#include "repository/config_parser.h"
#include "repository/warmup_samples.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

constexpr char kConfigFile[] = "config.yaml";

bool IsHidden(const std::string& name) { return !name.empty() && name.front() == '.'; }

// A version folder's number: digits only, no leading zero (so "1" and "01" cannot both name
// version 1). nullopt for anything else.
std::optional<int64_t> ParseVersion(const std::string& name) {
  if (name.empty() || name.front() == '0') return std::nullopt;
  if (!std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int64_t version = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), version);
  if (ec != std::errc() || ptr != name.data() + name.size()) return std::nullopt;
  return version;
}

// Messages name files by their path in the repository ("resnet50/config.yaml"), never by where
// the repository lies: they reach clients of the repository API.
StatusOr<std::string> ReadFile(const fs::path& path, const fs::path& shown) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("{}: cannot open", shown.string()));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return InvalidArgument(fmt::format("{}: read failed", shown.string()));
  return text;
}

StatusOr<std::vector<int64_t>> ScanVersions(const fs::path& model_dir, const fs::path& shown) {
  std::vector<int64_t> versions;
  std::error_code ec;
  for (fs::directory_iterator it(model_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    if (auto version = ParseVersion(it->path().filename().string())) versions.push_back(*version);
  }
  if (ec) {
    return InvalidArgument(fmt::format("{}: cannot list folder: {}", shown.string(), ec.message()));
  }
  if (versions.empty()) {
    return InvalidArgument(
        fmt::format("{}: no version folder (expected a numbered folder such as "
                    "{}/1)",
                    shown.string(), shown.string()));
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

StatusOr<RepositoryModel> LoadModel(const fs::path& model_dir, const std::string& name) {
  const fs::path config_path = model_dir / kConfigFile;
  const fs::path shown = fs::path(name) / kConfigFile;
  std::error_code ec;
  if (!fs::is_regular_file(config_path, ec)) {
    return InvalidArgument(
        fmt::format("{}: missing (every model folder needs a {})", shown.string(), kConfigFile));
  }
  ASSIGN_OR_RETURN(std::string text, ReadFile(config_path, shown));
  RepositoryModel model;
  ASSIGN_OR_RETURN(model.config, ParseModelConfig(text, name, shown.string()));
  RETURN_IF_ERROR(LoadWarmupSamples(model_dir.string(), name, &model.config));
  ASSIGN_OR_RETURN(model.versions, ScanVersions(model_dir, fs::path(name)));
  model.path = model_dir.string();
  return model;
}

Status CheckRoot(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return NotFound(fmt::format("model repository '{}' is not a folder", root));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<RepositoryModel>> ScanRepository(const std::string& root) {
  RETURN_IF_ERROR(CheckRoot(root));
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    const std::string name = it->path().filename().string();
    if (IsHidden(name) || !it->is_directory(type_ec)) continue;
    names.push_back(name);
  }
  if (ec) return InvalidArgument(fmt::format("{}: cannot list folder: {}", root, ec.message()));
  std::sort(names.begin(), names.end());
  std::vector<RepositoryModel> models;
  for (const std::string& name : names) {
    auto model = LoadModel(fs::path(root) / name, name);
    if (!model.ok()) {  // for the operator: which repository
      return Status(model.status().code(),
                    fmt::format("model repository '{}': {}", root, model.status().message()));
    }
    models.push_back(std::move(*model));
  }
  return models;
}

StatusOr<RepositoryModel> ScanModel(const std::string& root, const std::string& name) {
  if (name.empty() || IsHidden(name) ||
      name.find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
    return InvalidArgument(fmt::format("invalid model name '{}'", name));
  }
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return NotFound("the model repository is not a folder");
  const fs::path model_dir = fs::path(root) / name;
  if (!fs::is_directory(model_dir, ec)) {
    return NotFound(fmt::format("the model repository has no folder '{}'", name));
  }
  return LoadModel(model_dir, name);
}

}  // namespace switchyard
