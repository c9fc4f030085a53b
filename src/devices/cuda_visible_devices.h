#pragma once
// CUDA_VISIBLE_DEVICES: which physical GPUs the server may use, and in which order it numbers
// them. A pure function, so the mapping is tested without GPUs.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/status.h"

namespace switchyard {

// Resolves a CUDA_VISIBLE_DEVICES value against the machine's GPUs, given as their UUIDs in NVML
// index order (`uuids[i]` is the UUID of NVML device i, "GPU-xxxxxxxx-xxxx-..."). Returns the
// NVML indices of the visible GPUs in the order the value lists them: server device i is
// physical device result[i].
//
//   std::nullopt (variable unset)  every GPU, in NVML order
//   "" (set but empty)             no GPU
//   entries separated by ',' (spaces around an entry are ignored), each one of:
//     an integer >= 0              an NVML index ("0", "3")
//     "GPU-" + hex and '-'         a UUID, or a prefix of one that matches exactly one GPU
//                                  ("GPU-8932f937-d72c-4106-c12f-20bd9faed9f6", "GPU-8932f937")
//     hex and '-' without "GPU-"   the same, as CUDA also accepts (an all-digit entry is an index)
//     a negative integer ("-1")    ends the list: later entries are ignored, as CUDA does
//                                  ("-1" alone is the usual way to hide every GPU)
// Matching of UUIDs ignores case.
//
// Where CUDA silently stops at any entry it cannot use, this is an error instead (a server that
// starts on fewer GPUs than its operator meant is worse than one that refuses to start):
// INVALID_ARGUMENT naming `source` (where the value came from) and the entry, for an index that
// does not exist, a UUID that matches no GPU or more than one, a MIG device ("MIG-..."; not
// supported), an empty entry, a GPU listed twice, or anything else.
//
// Indices are NVML's (PCI bus order). CUDA numbers GPUs fastest first unless
// CUDA_DEVICE_ORDER=PCI_BUS_ID is set; on a machine of identical GPUs the two orders agree. UUIDs
// are the same in both, so list UUIDs when in doubt.
StatusOr<std::vector<int>> ResolveCudaVisibleDevices(
    const std::optional<std::string>& cuda_visible_devices, const std::vector<std::string>& uuids,
    std::string_view source = "CUDA_VISIBLE_DEVICES");

}  // namespace switchyard
