// libFuzzer target for the ipc message codec (src/ipc/messages.h): the bytes a worker process,
// crashed or hostile, could send the server.
//
// Input: one encoded message. Decode must reject malformed input with InvalidArgument; a decoded
// message must encode back to exactly the input (the encoding is canonical) and decode again to
// an equal message.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "ipc/messages.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  auto decoded = switchyard::ipc::Decode(input);
  if (!decoded.ok()) {
    Check(decoded.status().code() == switchyard::StatusCode::kInvalidArgument);
    return 0;
  }
  const std::vector<std::byte> encoded = switchyard::ipc::Encode(*decoded);
  Check(std::equal(encoded.begin(), encoded.end(), input.begin(), input.end()));
  auto again = switchyard::ipc::Decode(encoded);
  Check(again.ok() && *again == *decoded);
  return 0;
}
