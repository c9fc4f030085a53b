#pragma once
// How the requests of one batch are run: which requests share one forward() call, and where each
// request's rows lie in the concatenated tensors. Pure arithmetic: no torch.

#include <cstdint>
#include <vector>

#include "tensor_spec.h"

namespace switchyard::torch_backend {

// Requests that run as one forward() call. Their inputs are concatenated along dimension 0 in
// the order of `requests`; request `requests[k]` owns rows [row_offsets[k], row_offsets[k] +
// rows[k]) of every input and output.
struct BatchGroup {
  std::vector<uint32_t> requests;  // indexes in the batch, ascending
  std::vector<int64_t> row_offsets;
  std::vector<int64_t> rows;
  int64_t total_rows = 0;
};

// Groups `requests` (indexes into the batch; `input_shapes[k]` are request requests[k]'s input
// shapes in config order, batch dimension included when `batched`).
//   batched: requests whose inputs agree in every dimension but the first share a group (a
//     request whose variable dimension differs from the others' starts another group, since
//     tensors of different shapes cannot be concatenated); groups are ordered by their first
//     request, and a request's rows are its first dimension.
//   not batched: one group per request, of one "row" (the tensors are passed as they are).
// REQUIRES: input_shapes.size() == requests.size(); each request's shapes have the batch
// dimension (when batched) and one shape per config input.
std::vector<BatchGroup> PlanGroups(const std::vector<uint32_t>& requests,
                                   const std::vector<std::vector<Dims>>& input_shapes,
                                   bool batched);

// The smallest of `captured_sizes` (ascending) that holds `rows`, or 0 when none does.
int64_t PaddedBatchSize(const std::vector<int64_t>& captured_sizes, int64_t rows);

}  // namespace switchyard::torch_backend
