#pragma once
// How a model's worker-process instances share the machine's cores, so that N instances of a
// CPU-bound model do not each start a thread per core and fight over the same cores: each
// instance gets an equal share of the cores the server may run on (at least one) as its thread
// cap (OMP_NUM_THREADS and the like), and an instance on CPU is pinned to cores of its own.

#include <map>
#include <string>
#include <vector>

namespace switchyard {

struct CpuShare {
  int threads = 1;        // the instance's thread cap
  std::vector<int> cpus;  // the cores the instance is pinned to (CPU instances), ascending
};

// The share of instance `index` of `count` over `cores` (the CPUs the server may use, ascending;
// REQUIRES: non-empty, count >= 1, 0 <= index < count). Instances take consecutive runs of
// `threads` cores; with more instances than cores, runs wrap around and overlap.
CpuShare ShareOfCores(const std::vector<int>& cores, int count, int index);

// The CPUs this process may run on (its affinity mask), ascending.
std::vector<int> AllowedCpus();

// The thread-cap variables set to the share's thread count: OMP_NUM_THREADS, MKL_NUM_THREADS,
// OPENBLAS_NUM_THREADS, NUMEXPR_NUM_THREADS, VECLIB_MAXIMUM_THREADS. Those the model's own
// `environment` or the server's environment sets are left alone.
std::vector<std::string> ThreadCapEnvironment(int threads,
                                              const std::map<std::string, std::string>& model_env);

// "0,1,5" for `cpus`.
std::string CpuList(const std::vector<int>& cpus);

}  // namespace switchyard
