#include "frontend/http/shared_memory_ref.h"

#include <cstring>

#include "fmt/format.h"
#include "frontend/http/fault_guard.h"

namespace switchyard::http {

Status CheckInputRegions(const std::vector<SharedMemoryRef>& regions) {
  for (const SharedMemoryRef& region : regions) {
    if (region.span.guard != nullptr && region.span.guard->faulted()) {
      return Truncated("an input's", region.region);
    }
  }
  return Status::Ok();
}

Status CopyToSharedMemory(const Tensor& output, std::string_view field,
                          const SharedMemoryRef& shared) {
  std::span<const std::byte> bytes = output.data.bytes();
  if (bytes.size() > shared.span.bytes.size()) {
    return InvalidArgument(fmt::format(
        "{}: {} bytes do not fit the {} bytes of shared_memory_byte_size in region '{}'", field,
        bytes.size(), shared.span.bytes.size(), shared.region));
  }
  // memmove: an output may be the very bytes of an input in the same region (an identity model
  // run in process).
  if (!bytes.empty()) std::memmove(shared.span.bytes.data(), bytes.data(), bytes.size());
  if (shared.span.guard != nullptr && shared.span.guard->faulted()) {
    return Truncated(field, shared.region);
  }
  return Status::Ok();
}

}  // namespace switchyard::http
