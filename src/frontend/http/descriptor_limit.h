#pragma once
// Fits the HTTP connection limit to the process's file-descriptor limit (RLIMIT_NOFILE), so that
// a full server still has descriptors for its workers, models and files: a server that runs out
// of them cannot restart a worker (socketpair fails) however briefly the shortage lasts.

#include "switchyard/status.h"

namespace switchyard::http {

// Descriptors kept for everything but client connections (workers' channels, shared memory,
// model files, logs).
inline constexpr int kReservedDescriptors = 256;

// Raises the soft RLIMIT_NOFILE to the hard one, then checks that `max_connections` plus
// kReservedDescriptors fit. Returns the connection limit to use: `max_connections` when it fits;
// otherwise, when the user chose it, InvalidArgument naming the limit (`ulimit -n`); when it is
// the default, the largest count that fits, with a warning logged. A limit that leaves no
// descriptor for connections is InvalidArgument either way.
StatusOr<int> FitConnectionsToDescriptorLimit(int max_connections, bool chosen_by_user);

}  // namespace switchyard::http
