#include "frontend/http/descriptor_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace switchyard::http {

StatusOr<int> FitConnectionsToDescriptorLimit(int max_connections, bool chosen_by_user) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return Internal(fmt::format("getrlimit(RLIMIT_NOFILE): {}", std::strerror(errno)));
  }
  if (limit.rlim_cur != limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  const rlim_t needed = static_cast<rlim_t>(max_connections) + kReservedDescriptors;
  if (limit.rlim_cur == RLIM_INFINITY || needed <= limit.rlim_cur) return max_connections;
  if (limit.rlim_cur <= kReservedDescriptors) {
    return InvalidArgument(fmt::format(
        "the file-descriptor limit is {} (`ulimit -n`): it leaves none for connections once {} "
        "are kept for workers and files; raise it to at least {}",
        limit.rlim_cur, kReservedDescriptors, needed));
  }
  const int fits = static_cast<int>(limit.rlim_cur - kReservedDescriptors);
  if (chosen_by_user) {
    return InvalidArgument(fmt::format(
        "--max-connections {} needs {} file descriptors ({} kept for workers and files) but the "
        "limit is {} (`ulimit -n`); raise the limit or lower --max-connections to at most {}",
        max_connections, needed, kReservedDescriptors, limit.rlim_cur, fits));
  }
  spdlog::warn(
      "the file-descriptor limit is {} (`ulimit -n`): serving at most {} connections instead of "
      "{} ({} descriptors kept for workers and files)",
      limit.rlim_cur, fits, max_connections, kReservedDescriptors);
  return fits;
}

}  // namespace switchyard::http
