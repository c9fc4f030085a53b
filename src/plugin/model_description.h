#pragma once
// The SyModelDesc of a model config (include/switchyard/backend.h), with the storage its
// pointers point into: what SyModelInit and SyModelPlacementHints are given.
// Thread-safety: immutable after construction.

#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/backend.h"
#include "switchyard/model_config.h"

namespace switchyard::plugin {

class ModelDescription {
 public:
  // `config` version `version`, whose folder is `model_dir` (made absolute; "" stays "", and
  // then version_dir is "" too: SyModelPlacementHints is given neither). The description points
  // into `config` (tensor names, dims, parameters): `config` must outlive it, unchanged.
  ModelDescription(const ModelConfig& config, int64_t version, const std::string& model_dir);
  ModelDescription(const ModelDescription&) = delete;
  ModelDescription& operator=(const ModelDescription&) = delete;

  // Valid as long as this object.
  const SyModelDesc* get() const { return &desc_; }

 private:
  const std::string name_;
  const std::string backend_;
  const std::string model_dir_;
  const std::string version_dir_;
  std::vector<SyTensorSpec> inputs_;
  std::vector<SyTensorSpec> outputs_;
  std::vector<SyParameter> parameters_;
  SyModelDesc desc_{};
};

}  // namespace switchyard::plugin
