#include "exec/exec_context.h"

#include "exec/command_line.h"
#include "exec/frame_protocol.h"

namespace switchyard::exec {

std::vector<std::pair<std::string, std::string>> ProgramEnvironment(const ExecContext& context,
                                                                    const InstanceSpec& instance) {
  const ModelSpec& m = context.model;
  std::vector<std::pair<std::string, std::string>> env = {
      {"SWITCHYARD_EXEC_PROTOCOL", std::to_string(kProtocolVersion)},
      {"SWITCHYARD_EXEC_MODE", std::string(ModeName(context.params.mode))},
      {"SWITCHYARD_MODEL_NAME", m.name},
      {"SWITCHYARD_MODEL_VERSION", std::to_string(m.version)},
      {"SWITCHYARD_MODEL_DIR", m.model_dir},
      {"SWITCHYARD_VERSION_DIR", m.version_dir},
      {"SWITCHYARD_INSTANCE_NAME", instance.name},
      {"SWITCHYARD_INSTANCE_INDEX", std::to_string(instance.index)},
      {"SWITCHYARD_INSTANCE_GPUS", std::to_string(instance.gpu_count)},
  };
  // The program sees exactly its instance's GPUs, in process as in a worker.
  if (instance.cuda_visible_devices) {
    env.emplace_back("CUDA_VISIBLE_DEVICES", *instance.cuda_visible_devices);
  }
  return env;
}

std::function<void(std::string_view)> HostLogLine(const ExecContext& context,
                                                  const InstanceSpec& instance) {
  const SyHostApi* host = context.host;
  std::string prefix = "[exec " + instance.name + "] ";
  return [host, prefix](std::string_view line) {
    std::string message = prefix;
    message.append(line);
    host->log(SY_LOG_INFO, message.c_str());
  };
}

std::string CommandText(const ExecParameters& params) {
  std::string out;
  for (const std::string& word : params.argv) {
    if (!out.empty()) out += ' ';
    out += QuoteForDisplay(word);
  }
  return out;
}

}  // namespace switchyard::exec
