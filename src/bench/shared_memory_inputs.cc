#include "bench/shared_memory_inputs.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fmt/format.h"

namespace switchyard::bench {
namespace {

std::string Key(const std::string& region) { return "/" + region; }

// POST `target` with a JSON body; OK for a 200.
Status Post(const ServerAddress& address, const std::string& target, std::string body) {
  ASSIGN_OR_RETURN(
      HttpReply reply,
      HttpCall(address, MakePostRequest(address, target, std::move(body), 0), kControlTimeout));
  if (reply.status != 200) {
    return Unavailable(
        fmt::format("POST {} answered {}: {}", target, reply.status, reply.body.substr(0, 300)));
  }
  return Status::Ok();
}

// Makes object `key` of `bytes.size()` bytes holding `bytes`.
Status WriteObject(const std::string& key, std::string_view bytes) {
  const int fd = ::shm_open(key.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Unavailable(fmt::format("shm_open {}: {}", key, std::strerror(errno)));
  }
  Status status;
  if (::ftruncate(fd, static_cast<off_t>(bytes.size())) != 0) {
    status = Unavailable(fmt::format("ftruncate {}: {}", key, std::strerror(errno)));
  } else if (void* map = ::mmap(nullptr, bytes.size(), PROT_WRITE, MAP_SHARED, fd, 0);
             map == MAP_FAILED) {
    status = Unavailable(fmt::format("mmap {}: {}", key, std::strerror(errno)));
  } else {
    std::memcpy(map, bytes.data(), bytes.size());
    ::munmap(map, bytes.size());
  }
  ::close(fd);
  return status;
}

}  // namespace

StatusOr<std::unique_ptr<SharedMemoryInputs>> SharedMemoryInputs::Create(
    const ServerAddress& address, std::string region, std::string_view bytes) {
  std::unique_ptr<SharedMemoryInputs> inputs(new SharedMemoryInputs(address, std::move(region)));
  const std::string key = Key(inputs->region_);
  RETURN_IF_ERROR(WriteObject(key, bytes));
  RETURN_IF_ERROR(
      Post(address, fmt::format("/v2/systemsharedmemory/region/{}/register", inputs->region_),
           fmt::format(R"({{"key":"{}","offset":0,"byte_size":{}}})", key, bytes.size())));
  inputs->registered_ = true;
  return inputs;
}

SharedMemoryInputs::~SharedMemoryInputs() {
  if (registered_) {
    (void)Post(address_, fmt::format("/v2/systemsharedmemory/region/{}/unregister", region_), "");
  }
  ::shm_unlink(Key(region_).c_str());
}

}  // namespace switchyard::bench
