#include "server/cpu_share.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>

#include "fmt/format.h"

namespace switchyard {

CpuShare ShareOfCores(const std::vector<int>& cores, int count, int index) {
  const int total = static_cast<int>(cores.size());
  CpuShare share;
  share.threads = std::max(1, total / std::max(1, count));
  for (int k = 0; k < share.threads; ++k) {
    share.cpus.push_back(cores[static_cast<std::size_t>((index * share.threads + k) % total)]);
  }
  std::sort(share.cpus.begin(), share.cpus.end());
  share.cpus.erase(std::unique(share.cpus.begin(), share.cpus.end()), share.cpus.end());
  return share;
}

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

std::vector<std::string> ThreadCapEnvironment(int threads,
                                              const std::map<std::string, std::string>& model_env) {
  static constexpr const char* kCaps[] = {"OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                          "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                                          "VECLIB_MAXIMUM_THREADS"};
  std::vector<std::string> out;
  for (const char* name : kCaps) {
    if (model_env.contains(name) || std::getenv(name) != nullptr) continue;
    out.push_back(fmt::format("{}={}", name, threads));
  }
  return out;
}

std::string CpuList(const std::vector<int>& cpus) {
  return fmt::format("{}", fmt::join(cpus, ","));
}

}  // namespace switchyard
