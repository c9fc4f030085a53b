#pragma once
// Writing JSON text by hand (request bodies, the results file): string escaping.

#include <string>
#include <string_view>

namespace switchyard::bench {

// Appends `text` as a quoted JSON string, escaping quotes, backslashes and control characters.
void AppendJsonString(std::string& out, std::string_view text);

// `text` as a quoted JSON string.
std::string JsonString(std::string_view text);

}  // namespace switchyard::bench
