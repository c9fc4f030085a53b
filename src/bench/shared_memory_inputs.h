#pragma once
// The inputs of `switchyard bench --format shm`: a POSIX shared-memory object that holds them,
// registered with the server as a system shared-memory region for the length of the run.

#include <memory>
#include <string>
#include <string_view>

#include "bench/http_client.h"
#include "switchyard/status.h"

namespace switchyard::bench {

class SharedMemoryInputs {
 public:
  // Creates object "/<region>" holding `bytes` and registers it as region `region`. Errors:
  // Unavailable when the object cannot be made, or the server refuses the registration (its
  // status and message; 403 when it was started without --allow-shared-memory).
  static StatusOr<std::unique_ptr<SharedMemoryInputs>> Create(const ServerAddress& address,
                                                              std::string region,
                                                              std::string_view bytes);
  // Unregisters the region (best effort) and unlinks the object.
  ~SharedMemoryInputs();

  SharedMemoryInputs(const SharedMemoryInputs&) = delete;
  SharedMemoryInputs& operator=(const SharedMemoryInputs&) = delete;

  const std::string& region() const { return region_; }

 private:
  SharedMemoryInputs(ServerAddress address, std::string region)
      : address_(std::move(address)), region_(std::move(region)) {}

  const ServerAddress address_;
  const std::string region_;
  bool registered_ = false;
};

}  // namespace switchyard::bench
