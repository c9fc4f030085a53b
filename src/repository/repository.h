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
  std::string path;               // the model's folder
  std::vector<int64_t> versions;  // numbered version folders found, ascending; never empty
};

// Scans `root`. Every sub-folder is a model; hidden folders (".name") are skipped. Fails with a
// message naming the file and what is wrong if `root` is missing, a model has no config.yaml,
// its config is invalid, or it has no numbered version folder. Models are sorted by name.
StatusOr<std::vector<RepositoryModel>> ScanRepository(const std::string& root);

// Scans the single model folder `root`/`name` (for the repository load API).
StatusOr<RepositoryModel> ScanModel(const std::string& root, const std::string& name);

}  // namespace switchyard
