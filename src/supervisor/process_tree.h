#pragma once
// The processes a worker stands for: itself and everything it started (an exec model's program
// and that program's own children), for accounting what they hold together (device memory
// measured at load, docs/configuration.md).

#include <vector>

namespace switchyard {

// `pid` followed by its descendants (children first, then theirs), read from
// /proc/<pid>/task/<tid>/children. At most `max_processes` pids. Only `pid` when it has no
// children or /proc does not say (a kernel without CONFIG_PROC_CHILDREN); empty when `pid` is
// not running. A process that forks or exits meanwhile may be missed: a snapshot.
std::vector<long> ProcessTree(long pid, std::size_t max_processes = 4096);

}  // namespace switchyard
