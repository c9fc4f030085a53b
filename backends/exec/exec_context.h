#pragma once
// What every instance of one exec model shares: the host, the spawner thread, the model as
// configured and its validated parameters. Immutable after SyModelInit, so instances on several
// threads read it without locks.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exec/exec_parameters.h"
#include "exec/model_spec.h"
#include "exec/spawner.h"
#include "switchyard/backend.h"

namespace switchyard::exec {

struct ExecContext {
  const SyHostApi* host = nullptr;
  Spawner* spawner = nullptr;
  ModelSpec model;
  ExecParameters params;
};

// The environment a program gets on top of the host's (docs/exec-backend.md lists it).
std::vector<std::pair<std::string, std::string>> ProgramEnvironment(const ExecContext& context,
                                                                    const InstanceSpec& instance);

// A callback that writes each line of a program's output to the host log, tagged with the
// instance. Safe on any thread.
std::function<void(std::string_view)> HostLogLine(const ExecContext& context,
                                                  const InstanceSpec& instance);

// The command as written, for messages.
std::string CommandText(const ExecParameters& params);

}  // namespace switchyard::exec
