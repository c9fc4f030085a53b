#pragma once
// The warm-up samples of an HTTP envelope model (ModelConfig::http_envelope): the files of
// <model>/warmup/, sent as one request when an instance warms up. Such a model cannot be warmed
// with zeros (its program decodes files), so without samples it is not warmed up.
//
// Each file is a form field named after the file without its extension: `question.txt` is the
// text field `question`, any other file (`image.png`) a file part with its name and the content
// type of its extension. A folder holding only `body.<ext>` sends that file as the whole body
// instead (`body.json`: a JSON request). Hidden files are skipped; at most 64 files and 64 MiB.

#include <string>

#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard {

// Reads the samples of `model_dir` into config->warmup and settles warmup.requests: 1 by default
// with samples, 0 without. Does nothing for a model that is not an HTTP envelope model.
// InvalidArgument (naming `shown_dir`, the model's folder as messages show it) for a folder over
// the limits, an unreadable file, or `warmup.requests` > 0 set in config.yaml with no samples.
Status LoadWarmupSamples(const std::string& model_dir, const std::string& shown_dir,
                         ModelConfig* config);

}  // namespace switchyard
