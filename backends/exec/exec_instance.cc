#include "exec/exec_instance.h"

#include "exec/per_request_instance.h"
#include "exec/persistent_instance.h"

namespace switchyard::exec {

sdk::StatusOr<std::unique_ptr<ExecInstance>> CreateExecInstance(const ExecContext& context,
                                                                const InstanceSpec& instance) {
  if (context.params.mode == Mode::kPerRequest) {
    return std::unique_ptr<ExecInstance>(new PerRequestInstance(context, instance));
  }
  auto persistent = std::make_unique<PersistentInstance>(context, instance);
  SY_RETURN_IF_ERROR(persistent->Start());
  return std::unique_ptr<ExecInstance>(std::move(persistent));
}

std::string DescribeProgramEnd(const std::string& what, const ExitStatus& exit, bool killed,
                               const std::string& stderr_tail) {
  std::string out = what;
  if (killed) {
    out += "; the plugin killed it";
  } else {
    out += "; the program " + exit.ToString();
  }
  if (stderr_tail.empty()) {
    out += "; it wrote nothing to stderr";
  } else {
    out += "; its last stderr lines:";
    size_t pos = 0;
    while (pos < stderr_tail.size()) {
      size_t nl = stderr_tail.find('\n', pos);
      if (nl == std::string::npos) nl = stderr_tail.size();
      out += "\n  " + stderr_tail.substr(pos, nl - pos);
      pos = nl + 1;
    }
  }
  return out;
}

}  // namespace switchyard::exec
