#include "exec/exec_parameters.h"

#include <array>

#include "exec/command_line.h"

namespace switchyard::exec {
namespace {

constexpr std::array<std::string_view, 5> kKnownKeys = {"command", "mode", "timeout_ms",
                                                        "startup_timeout_ms", "stderr_tail_lines"};
constexpr int64_t kMaxTimeoutMs = 24LL * 3600 * 1000;

std::string KnownKeys() {
  std::string out;
  for (std::string_view k : kKnownKeys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

// A plain decimal integer in [lo, hi].
StatusOr<int64_t> ParseInt(const std::string& key, const std::string& value, int64_t lo,
                           int64_t hi) {
  auto bad = [&] {
    return InvalidArgument("parameters." + key + ": expected an integer from " +
                           std::to_string(lo) + " to " + std::to_string(hi) + ", got '" + value +
                           "'");
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

}  // namespace

std::string_view ModeName(Mode mode) {
  return mode == Mode::kPersistent ? "persistent" : "per_request";
}

StatusOr<ExecParameters> ParseExecParameters(
    const std::vector<std::pair<std::string, std::string>>& parameters,
    const std::string& version_dir, std::string_view path_env) {
  ExecParameters p;
  const std::string* command = nullptr;
  bool startup_timeout_given = false;
  for (const auto& [key, value] : parameters) {
    if (key == "command") {
      command = &value;
    } else if (key == "mode") {
      if (value == "persistent") {
        p.mode = Mode::kPersistent;
      } else if (value == "per_request") {
        p.mode = Mode::kPerRequest;
      } else {
        return InvalidArgument("parameters.mode: unknown mode '" + value +
                               "' (expected persistent or per_request)");
      }
    } else if (key == "timeout_ms") {
      EXEC_ASSIGN_OR_RETURN(p.timeout_ms, ParseInt(key, value, 1, kMaxTimeoutMs));
    } else if (key == "startup_timeout_ms") {
      EXEC_ASSIGN_OR_RETURN(p.startup_timeout_ms, ParseInt(key, value, 1, kMaxTimeoutMs));
      startup_timeout_given = true;
    } else if (key == "stderr_tail_lines") {
      EXEC_ASSIGN_OR_RETURN(int64_t lines, ParseInt(key, value, 0, 1000));
      p.stderr_tail_lines = static_cast<int>(lines);
    } else {
      return InvalidArgument("parameters: unknown key '" + key +
                             "' for the exec backend (known: " + KnownKeys() + ")");
    }
  }
  if (command == nullptr) {
    return InvalidArgument(
        "parameters.command is required for the exec backend, e.g. "
        "parameters: {command: \"/usr/bin/python3 model.py\"}");
  }
  if (startup_timeout_given && p.mode != Mode::kPersistent) {
    return InvalidArgument("parameters.startup_timeout_ms applies only to mode: persistent");
  }
  auto argv = SplitCommand(*command);
  if (!argv.ok()) return argv.status().Prefixed("parameters.command: ");
  p.argv = std::move(argv).value();
  auto program = ResolveProgram(p.argv[0], version_dir, path_env);
  if (!program.ok()) return program.status().Prefixed("parameters.command: ");
  p.program = std::move(program).value();
  return p;
}

}  // namespace switchyard::exec
