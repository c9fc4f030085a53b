#pragma once
// Parses and validates one model's config.yaml. Strict: an unknown key, a wrong type, a bad
// datatype, a negative dimension (other than -1) or an out-of-range value is an error whose
// message names the file, the field (as a dotted path, e.g. `inputs[1].datatype`) and what was
// expected.

#include <string_view>

#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard {

// `yaml_text`: the file's contents; `model_name`: the model folder's name (becomes
// ModelConfig::name); `file_path`: used only in error messages.
StatusOr<ModelConfig> ParseModelConfig(std::string_view yaml_text, std::string_view model_name,
                                       std::string_view file_path);

}  // namespace switchyard
