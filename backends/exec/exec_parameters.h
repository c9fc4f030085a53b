#pragma once
// The `parameters:` of an exec model (config.yaml), validated once at SyModelInit. Every key,
// its default and unit (docs/exec-backend.md has the same table):
//
//   command             required   the program and its arguments (see command_line.h)
//   mode                persistent `persistent`: one long-running program per instance that
//                                  answers batches over stdin/stdout (frame_protocol.h);
//                                  `per_request`: the program runs once per request, with its
//                                  inputs and outputs as files (request_files.h)
//   timeout_ms          0 ms       longest a batch (persistent) or one request's run
//                                  (per_request) may take; on expiry the program's process group
//                                  is killed and the batch / request fails. 0: no limit
//   startup_timeout_ms  30000 ms   persistent only: longest from start to the handshake answer
//   stderr_tail_lines   20 lines   lines of the program's stderr quoted in error messages
//   recycle_requests    0          persistent only: end the program after this many requests
//                                  (a fresh one starts for the next batch); 0: never
//   recycle_rss_mb      0 MiB      persistent only: the same once the program's resident memory
//                                  exceeds this after a batch; 0: never
//   shared_memory_mb    128 MiB    persistent only: per batch in flight, the shared region a
//                                  program that asks for it reads its inputs from
//                                  (shared_inputs.h); a batch whose inputs do not fit travels
//                                  through stdin. 0: no region
//
// Unknown keys are an error that names the key and lists the known ones.
//
// A `backend: python` model (docs/python-models.md) is served by the same plugin: its program is
// the Python runner shipped beside the plugin, started in persistent mode as
// `<python> <runner> <python_file> [<python_class>]`. Its keys:
//
//   python              python3    the interpreter (a bare name is looked up as `command` is)
//   python_file         model.py   the model's file, in the version folder
//   python_class        (auto)     the class to serve; default: the one class in the file that
//                                  has a `predict` method
//   timeout_ms, startup_timeout_ms (default 300000 ms: loading weights counts), stderr_tail_lines,
//   recycle_requests, recycle_rss_mb, shared_memory_mb  as above
//
// Every other key is the model's own: it reaches the program in the HELLO frame (the Python
// model's ctx.parameters). `command` and `mode` are errors there.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {

enum class Mode { kPersistent, kPerRequest };

std::string_view ModeName(Mode mode);

struct ExecParameters {
  std::vector<std::string> argv;  // the command's words; argv[0] as written
  std::string program;            // the absolute path executed (argv[0] resolved)
  Mode mode = Mode::kPersistent;
  int64_t timeout_ms = 0;  // 0: none
  int64_t startup_timeout_ms = 30000;
  int stderr_tail_lines = 20;
  int64_t recycle_requests = 0;    // 0: never
  int64_t recycle_rss_mb = 0;      // 0: never
  int64_t shared_memory_mb = 128;  // per batch in flight; 0: no shared input region
  // Parameters for the program itself, sent in HELLO (a python model's own keys; none for a
  // command model, whose keys are all the plugin's).
  std::vector<std::pair<std::string, std::string>> program_parameters;
};

// When a batch (persistent) or a run (per_request) that starts now must have ended: never when
// timeout_ms is 0.
std::chrono::steady_clock::time_point RunDeadline(const ExecParameters& params);

// Validates `parameters` of a command model and resolves the program against `version_dir` and
// `path_env` (see ResolveProgram). InvalidArgument naming the key for any problem.
sdk::StatusOr<ExecParameters> ParseExecParameters(
    const std::vector<std::pair<std::string, std::string>>& parameters,
    const std::string& version_dir, std::string_view path_env);

// The same for a python model whose runner is `runner_script` (an absolute path). Also checks
// that the runner and the model's file exist.
sdk::StatusOr<ExecParameters> ParsePythonParameters(
    const std::vector<std::pair<std::string, std::string>>& parameters,
    const std::string& version_dir, std::string_view path_env, const std::string& runner_script);

}  // namespace switchyard::exec
