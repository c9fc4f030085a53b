#include "batch_plan.h"

namespace switchyard::torch_backend {
namespace {

// Whether two requests' inputs agree in every dimension but the batch dimension.
bool SameItemShapes(const std::vector<Dims>& a, const std::vector<Dims>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return false;
    for (size_t d = 1; d < a[i].size(); ++d) {
      if (a[i][d] != b[i][d]) return false;
    }
  }
  return true;
}

void Append(BatchGroup* group, uint32_t request, int64_t rows) {
  group->requests.push_back(request);
  group->row_offsets.push_back(group->total_rows);
  group->rows.push_back(rows);
  group->total_rows += rows;
}

}  // namespace

std::vector<BatchGroup> PlanGroups(const std::vector<uint32_t>& requests,
                                   const std::vector<std::vector<Dims>>& input_shapes,
                                   bool batched) {
  std::vector<BatchGroup> groups;
  std::vector<size_t> representative;  // per group: an index into `requests` of a member
  for (size_t k = 0; k < requests.size(); ++k) {
    if (!batched) {
      groups.emplace_back();
      Append(&groups.back(), requests[k], 1);
      continue;
    }
    const std::vector<Dims>& shapes = input_shapes[k];
    const int64_t rows = shapes.empty() || shapes[0].empty() ? 1 : shapes[0][0];
    size_t g = 0;
    while (g < groups.size() && !SameItemShapes(input_shapes[representative[g]], shapes)) ++g;
    if (g == groups.size()) {
      groups.emplace_back();
      representative.push_back(k);
    }
    Append(&groups[g], requests[k], rows);
  }
  return groups;
}

int64_t PaddedBatchSize(const std::vector<int64_t>& captured_sizes, int64_t rows) {
  for (int64_t size : captured_sizes) {
    if (size >= rows) return size;
  }
  return 0;
}

}  // namespace switchyard::torch_backend
