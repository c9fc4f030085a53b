#pragma once
// Parses and validates one model's config.yaml. Strict: an unknown key, a wrong type, a bad
// datatype, a negative dimension (other than -1) or an out-of-range value is an error whose
// message names the file, the field (as a dotted path, e.g. `inputs[1].datatype`) and what was
// expected: "models/x/config.yaml: inputs[1].datatype: unknown datatype 'FP33' (expected one of
// BOOL, ...)". YAML syntax errors give the 1-based line and column instead of a field. Numbers
// must be plain decimal integers (`8`, not `"8"`, `8.0` or `0x8`). Fields absent from the file keep
// the defaults of model_config.h. Errors are INVALID_ARGUMENT; the parser never throws.

#include <string_view>

#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard {

// `yaml_text`: the file's contents; `model_name`: the model folder's name (becomes
// ModelConfig::name); `file_path`: used only in error messages.
StatusOr<ModelConfig> ParseModelConfig(std::string_view yaml_text, std::string_view model_name,
                                       std::string_view file_path);

}  // namespace switchyard
