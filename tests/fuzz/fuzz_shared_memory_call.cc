// libFuzzer target for the system shared-memory extension's REST calls (SharedMemoryHandler):
// the path after /v2/systemsharedmemory and the body are client bytes.
//
// Input layout: byte 0 picks the method (bits 0-1: GET, HEAD, POST, other) and whether an admin
// token is configured (bit 2) and sent (bit 3); the rest up to the first '\n' is the path after
// "/v2/systemsharedmemory", what follows is the body. One object, "/switchyard-fuzz-call-<pid>"
// (4 KiB), exists for registrations to find: "$KEY" in the body stands for its key. Every input
// starts from an empty registry.
// Each call must be answered exactly once, with a status the handler documents and a body.

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "frontend/http/shared_memory_handler.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

// The object registrations may name, made once and removed when the process ends.
class ObjectFile {
 public:
  ObjectFile() : key_("/switchyard-fuzz-call-" + std::to_string(::getpid())) {
    const int fd = ::shm_open(key_.c_str(), O_CREAT | O_RDWR, 0600);
    Check(fd >= 0 && ::ftruncate(fd, 4096) == 0);
    ::close(fd);
  }
  ~ObjectFile() { ::shm_unlink(key_.c_str()); }
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

const std::string& ObjectKey() {
  static const ObjectFile object;
  return object.key();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using switchyard::http::HttpReply;
  using switchyard::http::Method;
  if (size < 1) return 0;
  static switchyard::http::SharedMemoryRegistry registry;
  registry.UnregisterAll();
  const bool token = (data[0] & 4) != 0;
  switchyard::http::SharedMemoryHandler handler(&registry, token ? "t0ken" : "");
  switchyard::http::HttpRequest request;
  constexpr Method kMethods[] = {Method::kGet, Method::kHead, Method::kPost, Method::kOther};
  request.method = kMethods[data[0] & 3];
  if ((data[0] & 8) != 0) request.authorization = "Bearer t0ken";
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t newline = rest.find('\n');
  const std::string path(rest.substr(0, newline));
  request.target = "/v2/systemsharedmemory" + path;
  if (newline != std::string_view::npos) {
    std::string body(rest.substr(newline + 1));
    for (std::size_t at = body.find("$KEY"); at != std::string::npos; at = body.find("$KEY", at)) {
      body.replace(at, 4, ObjectKey());
      at += ObjectKey().size();
    }
    request.body = std::move(body);
  }

  int replies = 0;
  handler.Handle(request, path, [&](HttpReply reply) {
    ++replies;
    const unsigned s = reply.status;
    Check(s == 200 || s == 400 || s == 401 || s == 403 || s == 404 || s == 405 || s == 409);
    Check(!reply.body.empty());
    Check(s == 200 || reply.body.starts_with("{\"error\":"));
  });
  Check(replies == 1);
  return 0;
}
