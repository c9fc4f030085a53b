#include "exec/exec_parameters.h"

#include <sys/stat.h>

#include <array>
#include <span>

#include "exec/command_line.h"

namespace switchyard::exec {
namespace {

constexpr std::array<std::string_view, 8> kCommandKeys = {"command",           "mode",
                                                          "timeout_ms",        "startup_timeout_ms",
                                                          "stderr_tail_lines", "recycle_requests",
                                                          "recycle_rss_mb",    "shared_memory_mb"};
constexpr int64_t kMaxTimeoutMs = 24LL * 3600 * 1000;
constexpr int64_t kMaxCount = 1LL << 40;
constexpr int64_t kPythonStartupTimeoutMs = 300000;
constexpr int64_t kMaxSharedMemoryMb = 1 << 16;

std::string Listed(std::span<const std::string_view> keys) {
  std::string out;
  for (std::string_view k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

// A plain decimal integer in [lo, hi].
sdk::StatusOr<int64_t> ParseInt(const std::string& key, const std::string& value, int64_t lo,
                                int64_t hi) {
  auto bad = [&] {
    return sdk::InvalidArgument("parameters." + key + ": expected an integer from " +
                                std::to_string(lo) + " to " + std::to_string(hi) + ", got '" +
                                value + "'");
  };
  if (value.empty() || value.size() > 18) return bad();
  int64_t v = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return bad();
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return bad();
  return v;
}

// Reads one of the keys both kinds of model share into `p`. False when `key` is not one of them.
// `persistent_only_given` is set when the key applies to mode: persistent only.
sdk::StatusOr<bool> ReadSharedKey(const std::string& key, const std::string& value,
                                  ExecParameters* p, bool* persistent_only_given) {
  if (key == "timeout_ms") {
    SY_ASSIGN_OR_RETURN(p->timeout_ms, ParseInt(key, value, 0, kMaxTimeoutMs));
  } else if (key == "startup_timeout_ms") {
    SY_ASSIGN_OR_RETURN(p->startup_timeout_ms, ParseInt(key, value, 1, kMaxTimeoutMs));
    *persistent_only_given = true;
  } else if (key == "stderr_tail_lines") {
    SY_ASSIGN_OR_RETURN(int64_t lines, ParseInt(key, value, 0, 1000));
    p->stderr_tail_lines = static_cast<int>(lines);
  } else if (key == "recycle_requests") {
    SY_ASSIGN_OR_RETURN(p->recycle_requests, ParseInt(key, value, 0, kMaxCount));
    *persistent_only_given = true;
  } else if (key == "recycle_rss_mb") {
    SY_ASSIGN_OR_RETURN(p->recycle_rss_mb, ParseInt(key, value, 0, kMaxCount));
    *persistent_only_given = true;
  } else if (key == "shared_memory_mb") {
    SY_ASSIGN_OR_RETURN(p->shared_memory_mb, ParseInt(key, value, 0, kMaxSharedMemoryMb));
    *persistent_only_given = true;
  } else {
    return false;
  }
  return true;
}

bool IsRegularFile(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::string_view ModeName(Mode mode) {
  return mode == Mode::kPersistent ? "persistent" : "per_request";
}

std::chrono::steady_clock::time_point RunDeadline(const ExecParameters& params) {
  if (params.timeout_ms == 0) return std::chrono::steady_clock::time_point::max();
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(params.timeout_ms);
}

sdk::StatusOr<ExecParameters> ParseExecParameters(
    const std::vector<std::pair<std::string, std::string>>& parameters,
    const std::string& version_dir, std::string_view path_env) {
  ExecParameters p;
  const std::string* command = nullptr;
  bool persistent_only_given = false;
  for (const auto& [key, value] : parameters) {
    SY_ASSIGN_OR_RETURN(bool shared, ReadSharedKey(key, value, &p, &persistent_only_given));
    if (shared) continue;
    if (key == "command") {
      command = &value;
    } else if (key == "mode") {
      if (value == "persistent") {
        p.mode = Mode::kPersistent;
      } else if (value == "per_request") {
        p.mode = Mode::kPerRequest;
      } else {
        return sdk::InvalidArgument("parameters.mode: unknown mode '" + value +
                                    "' (expected persistent or per_request)");
      }
    } else {
      return sdk::InvalidArgument("parameters: unknown key '" + key +
                                  "' for the exec backend (known: " + Listed(kCommandKeys) + ")");
    }
  }
  if (command == nullptr) {
    return sdk::InvalidArgument(
        "parameters.command is required for the exec backend, e.g. "
        "parameters: {command: \"/usr/bin/python3 model.py\"}");
  }
  if (persistent_only_given && p.mode != Mode::kPersistent) {
    return sdk::InvalidArgument(
        "parameters.startup_timeout_ms, recycle_requests, recycle_rss_mb and shared_memory_mb "
        "apply only to mode: persistent");
  }
  auto argv = SplitCommand(*command);
  if (!argv.ok()) return argv.status().Prefixed("parameters.command: ");
  p.argv = std::move(argv).value();
  auto program = ResolveProgram(p.argv[0], version_dir, path_env);
  if (!program.ok()) return program.status().Prefixed("parameters.command: ");
  p.program = std::move(program).value();
  return p;
}

sdk::StatusOr<ExecParameters> ParsePythonParameters(
    const std::vector<std::pair<std::string, std::string>>& parameters,
    const std::string& version_dir, std::string_view path_env, const std::string& runner_script) {
  ExecParameters p;
  p.startup_timeout_ms = kPythonStartupTimeoutMs;
  std::string python = "python3";
  std::string file = "model.py";
  std::string class_name;
  bool persistent_only_given = false;  // a python model is always persistent
  for (const auto& [key, value] : parameters) {
    SY_ASSIGN_OR_RETURN(bool shared, ReadSharedKey(key, value, &p, &persistent_only_given));
    if (shared) continue;
    if (key == "python") {
      python = value;
    } else if (key == "python_file") {
      file = value;
    } else if (key == "python_class") {
      class_name = value;
    } else if (key == "command" || key == "mode") {
      return sdk::InvalidArgument("parameters." + key +
                                  " is not for a python model: its program is the Python runner "
                                  "(use backend: exec to run a command of your own)");
    } else {
      p.program_parameters.emplace_back(key, value);
    }
  }
  if (file.empty() || file.find('/') != std::string::npos || file.front() == '.') {
    return sdk::InvalidArgument("parameters.python_file: '" + file +
                                "' must be the name of a file in the version folder");
  }
  if (!IsRegularFile(version_dir + "/" + file)) {
    return sdk::InvalidArgument("parameters.python_file: " + file +
                                " does not exist in the version folder " + version_dir);
  }
  if (!IsRegularFile(runner_script)) {
    return sdk::Status(SY_ERROR_UNAVAILABLE,
                       "the Python runner " + runner_script +
                           " is missing (it is installed beside the exec plugin)");
  }
  auto program = ResolveProgram(python, version_dir, path_env);
  if (!program.ok()) return program.status().Prefixed("parameters.python: ");
  p.program = std::move(program).value();
  p.argv = {python, runner_script, file};
  if (!class_name.empty()) p.argv.push_back(class_name);
  return p;
}

}  // namespace switchyard::exec
