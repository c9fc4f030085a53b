// libFuzzer target for the HTTP front end's connection code: the real HttpServer (parser,
// limits, memory budget, routing, the KServe codec, the job routes with a real job store, a real
// in-process model) on a loopback port,
// fed arbitrary bytes over a real TCP connection, split at arbitrary points.
//
// Input layout: byte 0 bits 0-2 give the number of split points n (0-7); bytes 1..n place them
// (each byte b splits at b/256 of the stream); the rest is the byte stream the client sends.
// After sending it the client half-closes and reads until the server closes: every input must
// end in a closed connection (a server that stops answering aborts the target), and the server
// must keep serving. The server lives for the whole process (never destroyed).

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/http/http_server.h"
#include "frontend/http/router.h"
#include "switchyard/server.h"
#include "testing/sim_models.h"

namespace {

namespace fs = std::filesystem;
using namespace switchyard;  // NOLINT(google-build-using-namespace): a test program

constexpr int kHangTimeoutMs = 10000;

struct Target {
  std::unique_ptr<Server> server;
  std::unique_ptr<http::Router> router;
  std::unique_ptr<http::JobService> jobs;
  std::unique_ptr<http::HttpServer> http;
  uint16_t port = 0;
};

Target* Start() {
  const fs::path root =
      fs::temp_directory_path() / ("switchyard-fuzz-http-" + std::to_string(::getpid()));
  fs::create_directories(root / "simple" / "1");
  std::ofstream(root / "simple" / "config.yaml") << testing::kAddSubConfig << testing::kInProcess;
  auto* target = new Target();
  ServerOptions options;
  options.model_repository = root.string();
  auto server = Server::Create(options);
  fs::remove_all(root);
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start the server: %s\n", server.status().ToString().c_str());
    std::abort();
  }
  target->server = std::move(*server);
  target->router = std::make_unique<http::Router>(target->server.get());
  // The job store lives as long as the process; its folder goes at exit.
  static const fs::path state =
      fs::temp_directory_path() / ("switchyard-fuzz-jobs-" + std::to_string(::getpid()));
  std::atexit([] { fs::remove_all(state); });
  auto jobs = http::JobService::Create(
      {.state_dir = state.string(), .max_unfinished = 64},
      [router = target->router.get()](http::HttpRequest request, http::ReplyFn reply) {
        router->Handle(std::move(request), std::move(reply));
      });
  if (!jobs.ok()) {
    std::fprintf(stderr, "cannot start the jobs: %s\n", jobs.status().ToString().c_str());
    std::abort();
  }
  target->jobs = std::move(*jobs);
  target->router->SetJobs(target->jobs.get());
  http::HttpOptions http_options;
  http_options.host = "127.0.0.1";
  http_options.port = 0;
  http_options.threads = 2;
  http_options.max_body_bytes = 64 << 10;
  http_options.max_header_bytes = 4 << 10;
  http_options.idle_timeout_s = 2;
  http_options.write_timeout_s = 2;
  http_options.max_buffered_bytes = 1 << 20;
  target->http = std::make_unique<http::HttpServer>(http_options, target->router.get());
  if (Status started = target->http->Start(); !started.ok()) {
    std::fprintf(stderr, "cannot listen: %s\n", started.ToString().c_str());
    std::abort();
  }
  target->port = target->http->port();
  return target;
}

int Connect(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = -1;
  while (true) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      break;
    }
    // libFuzzer's alarm (-max_total_time, -timeout) may interrupt a connect: try a new socket.
    if (fd >= 0 && errno == EINTR) {
      ::close(fd);
      continue;
    }
    std::perror("connect");
    std::abort();
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Sends what it can of `bytes` (the server may close early, e.g. after a 431), reading meanwhile
// so that neither side blocks on a full buffer.
void SendAll(int fd, const uint8_t* bytes, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, bytes, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return;  // closed by the server
    pollfd pfd{.fd = fd, .events = POLLIN | POLLOUT, .revents = 0};
    if (::poll(&pfd, 1, kHangTimeoutMs) <= 0) {
      std::fprintf(stderr, "the server neither reads nor answers\n");
      std::abort();
    }
    if ((pfd.revents & POLLIN) != 0) {
      char sink[65536];
      if (::recv(fd, sink, sizeof(sink), 0) <= 0) return;
    }
  }
}

// Sends `request` on a fresh connection and returns all the server answered until it closed.
std::string Fetch(uint16_t port, std::string_view request) {
  int fd = Connect(port);
  SendAll(fd, reinterpret_cast<const uint8_t*>(request.data()), request.size());
  std::string answer;
  char chunk[65536];
  while (true) {
    pollfd pfd{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&pfd, 1, kHangTimeoutMs) <= 0) break;
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    answer.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

// Each thread of this process (the fuzzer and the server) with its name, state, what it waits in
// (wchan) and its current system call: where a stalled connection's thread is.
std::string Threads() {
  std::string out;
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    auto read = [&](const char* file) {
      std::ifstream in(task.path() / file);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      while (!text.empty() && text.back() == '\n') text.pop_back();
      return text;
    };
    std::string stat = read("stat");
    const std::size_t close = stat.rfind(')');
    const char state =
        close != std::string::npos && close + 2 < stat.size() ? stat[close + 2] : '?';
    out += task.path().filename().string() + " " + read("comm") + " " + state +
           " wchan=" + read("wchan") + " syscall=" + read("syscall") + "\n";
  }
  return out;
}

void DoNothing(int) {}

// What this client's own socket still holds: request bytes the kernel has not sent yet, bytes
// not acknowledged, when it last sent data, and reply bytes waiting to be read. A "stall" with
// unsent request bytes, or with a reply waiting, is not the server's.
std::string ClientSocketState(int fd) {
  int unsent = -1;
  int unacknowledged = -1;
  int readable = -1;
  ::ioctl(fd, SIOCOUTQNSD, &unsent);
  ::ioctl(fd, SIOCOUTQ, &unacknowledged);
  ::ioctl(fd, FIONREAD, &readable);
  tcp_info info{};
  socklen_t length = sizeof(info);
  const bool known = ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) == 0;
  return "client socket: " + std::to_string(unsent) + " request bytes not sent yet, " +
         std::to_string(unacknowledged) + " not acknowledged, last data sent " +
         (known ? std::to_string(info.tcpi_last_data_sent) : std::string("?")) + " ms ago; " +
         std::to_string(readable) + " reply bytes waiting to be read";
}

// Tells apart the two ways the server can hang a connection: work queued on an I/O thread that
// sleeps (a lost wake-up: interrupting that thread's epoll_wait with a signal lets it run), or
// an I/O operation that waits for readiness the kernel does not report again (interrupting does
// not help). Interrupts each server I/O thread in turn and says after which the server wrote
// again on `fd`. Only meaningful when nothing was waiting to be read before.
std::string KickIoThreads(int fd) {
  int readable = 0;
  ::ioctl(fd, FIONREAD, &readable);
  if (readable > 0) return "reply bytes were already waiting: no interrupt tried";
  struct sigaction action {};
  action.sa_handler = DoNothing;
  ::sigaction(SIGURG, &action, nullptr);
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "comm");
    std::string name;
    std::getline(in, name);
    if (!name.starts_with("sy-http-")) continue;
    ::syscall(SYS_tgkill, ::getpid(), std::stoi(task.path().filename().string()), SIGURG);
    pollfd pfd{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&pfd, 1, 1000) > 0)
      return "the server wrote again after " + name + " was interrupted";
  }
  return "interrupting each I/O thread's wait did not make the server write again";
}

// Reads until the server closes the connection. A server that keeps it open past
// kHangTimeoutMs aborts the target, after printing the sockets, the threads, whether
// interrupting an I/O thread made the server go on (KickIoThreads), what the connection got and
// the server's status. With FUZZ_HTTP_SHOW set, prints the status lines of the answers (to see what
// a seed does).
void DrainUntilClosed(int fd, uint16_t port) {
  static const bool show = std::getenv("FUZZ_HTTP_SHOW") != nullptr;
  std::string received;
  char chunk[65536];
  int waited_ms = 0;
  while (true) {
    pollfd pfd{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&pfd, 1, kHangTimeoutMs) <= 0) {
      waited_ms += kHangTimeoutMs;
      if (waited_ms == kHangTimeoutMs) {
        // Before anything else touches the server: this client's socket, the sockets' queues
        // (`ss`: lastsnd and lastrcv say when the request crossed), then the interrupts.
        std::fprintf(stderr, "%s\n", ClientSocketState(fd).c_str());
        const std::string sockets = "ss -tnoie '( sport = :" + std::to_string(port) +
                                    " or dport = :" + std::to_string(port) + " )' >&2";
        (void)std::system(sockets.c_str());
        std::fprintf(stderr, "threads:\n%s\n", Threads().c_str());
        std::fprintf(stderr, "%s\n", KickIoThreads(fd).c_str());
      }
      std::fprintf(
          stderr,
          "the server did not close a half-closed connection in %d ms; it had "
          "answered:\n%s\nserver status:\n%s\n",
          waited_ms, received.substr(0, 4096).c_str(),
          Fetch(port, "GET /v2/status HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n").c_str());
      if (waited_ms == kHangTimeoutMs && std::getenv("FUZZ_HTTP_GDB") != nullptr) {
        // Where each thread is (gdb attaches to this process; it must be installed).
        const std::string command = "gdb -p " + std::to_string(::getpid()) +
                                    " -batch -ex 'thread apply all bt 15' 2>&1 | tail -n 250 >&2";
        (void)std::system(command.c_str());
      }
      if (waited_ms >= 6 * kHangTimeoutMs) std::abort();
      continue;
    }
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    if (received.size() < (1u << 20)) received.append(chunk, static_cast<std::size_t>(n));
  }
  if (waited_ms > 0) {
    std::fprintf(
        stderr, "... and then it did: it answered late, not never; the end of it:\n%s\n",
        received.substr(received.size() - std::min<std::size_t>(received.size(), 2048)).c_str());
    std::abort();
  }
  if (show) {
    for (std::size_t at = received.find("HTTP/1."); at != std::string::npos;
         at = received.find("HTTP/1.", at + 1)) {
      std::printf("  <- %s\n", received.substr(at, received.find('\r', at) - at).c_str());
    }
  }
}

// A health check on a fresh connection: the server still serves.
void CheckAlive(uint16_t port) {
  std::string answer =
      Fetch(port, "GET /v2/health/live HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n");
  if (!answer.starts_with("HTTP/1.1 200")) {
    std::fprintf(stderr, "the server stopped serving\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static Target* target = Start();
  static uint64_t inputs = 0;
  if (size == 0) return 0;
  const std::size_t splits = std::min<std::size_t>(data[0] & 7u, size - 1);
  const uint8_t* stream = data + 1 + splits;
  const std::size_t length = size - 1 - splits;
  std::vector<std::size_t> cuts;
  for (std::size_t i = 0; i < splits; ++i) cuts.push_back(data[1 + i] * length / 256);
  cuts.push_back(length);
  std::sort(cuts.begin(), cuts.end());

  int fd = Connect(target->port);
  std::size_t sent = 0;
  for (std::size_t cut : cuts) {
    SendAll(fd, stream + sent, cut - sent);
    sent = cut;
    if (cut < length) ::usleep(200);  // lets the server read this piece on its own
  }
  ::shutdown(fd, SHUT_WR);
  DrainUntilClosed(fd, target->port);
  ::close(fd);
  if (inputs++ % 64 == 0) CheckAlive(target->port);  // the first input too
  return 0;
}
