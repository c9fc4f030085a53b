#pragma once
// The `command` parameter of an exec model: split into argv without a shell, and its program
// resolved to an absolute path. Commands come only from the model's config.yaml, never from a
// request.

#include <string>
#include <string_view>
#include <vector>

#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {

// Splits `command` into words as a shell would split a simple command, without any expansion:
// words are separated by unquoted spaces, tabs or newlines; '...' keeps its content literally;
// "..." keeps its content except that \" and \\ stand for " and \; outside quotes a backslash
// makes the next character literal. Quoted parts join the unquoted text around them (a"b c" is
// one word `ab c`; "" is an empty word). $, *, |, ;, ~ and the like have no special meaning.
// InvalidArgument for an empty command, an unterminated quote, a trailing backslash or a NUL.
sdk::StatusOr<std::vector<std::string>> SplitCommand(std::string_view command);

// The absolute path of the program `argv0` names:
//   - an absolute path is taken as is;
//   - a path with a '/' (`./run.sh`, `bin/model`) is relative to `version_dir`;
//   - a bare name (`model.sh`, `python3`) is the file of that name in `version_dir` when one
//     exists, otherwise the first match in the absolute directories of `path_env` (the PATH).
// Then it must be a regular file the process may execute. InvalidArgument naming the program and
// where it was looked for otherwise. REQUIRES: `version_dir` is absolute.
sdk::StatusOr<std::string> ResolveProgram(const std::string& argv0, const std::string& version_dir,
                                          std::string_view path_env);

// `arg` quoted for display in messages and logs when it holds anything but [A-Za-z0-9_./=:+-].
std::string QuoteForDisplay(std::string_view arg);

}  // namespace switchyard::exec
