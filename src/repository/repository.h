#pragma once
// The model repository on disk: one folder per model holding config.yaml and numbered version
// folders (models/<name>/config.yaml, models/<name>/<version>/...).

#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard {

struct RepositoryModel {
  ModelConfig config;
  std::string path;  // the model's folder
  // Numbered version folders found, ascending; never empty. A version folder is named by a
  // positive decimal number without leading zeros; other entries are ignored.
  std::vector<int64_t> versions;
};

// Scans `root`. Every sub-folder is a model; hidden folders (".name") are skipped. Fails with a
// message naming the file and what is wrong if `root` is missing, a model has no config.yaml,
// its config is invalid, or it has no numbered version folder. Models are sorted by name.
// Codes: NOT_FOUND when `root` is not a folder; INVALID_ARGUMENT for a broken model. Messages
// name files by their path in the repository ("m/config.yaml"), after "model repository
// '<root>': " (for the operator).
StatusOr<std::vector<RepositoryModel>> ScanRepository(const std::string& root);

// Scans the single model folder `root`/`name` (for the repository load API). INVALID_ARGUMENT
// when `name` is empty, hidden (".x", "..") or contains '/'; NOT_FOUND when the folder is missing.
// Messages name files by their path in the repository only: they reach clients, which are not
// told where the repository lies.
StatusOr<RepositoryModel> ScanModel(const std::string& root, const std::string& name);

}  // namespace switchyard
