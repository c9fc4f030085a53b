// libFuzzer target: arbitrary bytes as a model's config.yaml. ParseModelConfig must return a
// Status for every input (no crash, no exception, no sanitizer report).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "repository/config_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)switchyard::ParseModelConfig(text, "fuzz", "fuzz/config.yaml");
  return 0;
}
