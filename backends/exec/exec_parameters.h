#pragma once
// The `parameters:` of an exec model (config.yaml), validated once at SyModelInit. Every key,
// its default and unit (docs/exec-backend.md has the same table):
//
//   command             required   the program and its arguments (see command_line.h)
//   mode                persistent `persistent`: one long-running program per instance that
//                                  answers batches over stdin/stdout (frame_protocol.h);
//                                  `per_request`: the program runs once per request, with its
//                                  inputs and outputs as files (request_files.h)
//   timeout_ms          60000 ms   longest a batch (persistent) or one request's run
//                                  (per_request) may take; on expiry the program's process group
//                                  is killed and the batch / request fails
//   startup_timeout_ms  30000 ms   persistent only: longest from start to the handshake answer
//   stderr_tail_lines   20 lines   lines of the program's stderr quoted in error messages
//
// Unknown keys are an error that names the key and lists the known ones.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exec/status.h"

namespace switchyard::exec {

enum class Mode { kPersistent, kPerRequest };

std::string_view ModeName(Mode mode);

struct ExecParameters {
  std::vector<std::string> argv;  // the command's words; argv[0] as written
  std::string program;            // the absolute path executed (argv[0] resolved)
  Mode mode = Mode::kPersistent;
  int64_t timeout_ms = 60000;
  int64_t startup_timeout_ms = 30000;
  int stderr_tail_lines = 20;
};

// Validates `parameters` and resolves the program against `version_dir` and `path_env` (see
// ResolveProgram). InvalidArgument naming the key for any problem.
StatusOr<ExecParameters> ParseExecParameters(
    const std::vector<std::pair<std::string, std::string>>& parameters,
    const std::string& version_dir, std::string_view path_env);

}  // namespace switchyard::exec
