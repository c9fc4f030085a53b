#include "supervisor/process_tree.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace switchyard {

std::vector<long> ProcessTree(long pid, std::size_t max_processes) {
  std::vector<long> tree;
  std::error_code ec;
  if (pid <= 0 || !std::filesystem::exists("/proc/" + std::to_string(pid), ec)) return tree;
  tree.push_back(pid);
  for (std::size_t next = 0; next < tree.size() && tree.size() < max_processes; ++next) {
    const std::filesystem::path tasks = "/proc/" + std::to_string(tree[next]) + "/task";
    for (std::filesystem::directory_iterator it(tasks, ec), end; !ec && it != end;
         it.increment(ec)) {
      std::ifstream children(it->path() / "children");
      long child = 0;
      while (children >> child && tree.size() < max_processes) tree.push_back(child);
    }
  }
  return tree;
}

}  // namespace switchyard
