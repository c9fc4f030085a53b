#include "frontend/agent/agent_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "fmt/format.h"

namespace switchyard::agent {

std::string AgentLine(bool ready, bool leaving, double utilization) {
  if (leaving) return "drain\n";
  if (!ready) return "down\n";
  const int weight = std::clamp(static_cast<int>(std::lround(100 * (1 - utilization))), 1, 100);
  return fmt::format("up ready {}%\n", weight);
}

AgentCheck::~AgentCheck() { Stop(); }

Status AgentCheck::Start(const std::string& host, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return InvalidArgument(fmt::format("--agent-port: '{}' is not an IPv4 address", host));
  }
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  if (listen_fd_ < 0 || setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
      bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listen_fd_, 64) != 0) {
    Status error = Unavailable(
        fmt::format("agent check: cannot listen on {}:{}: {}", host, port, std::strerror(errno)));
    Stop();
    return error;
  }
  socklen_t length = sizeof(address);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    Stop();
    return Internal(fmt::format("agent check: eventfd: {}", std::strerror(errno)));
  }
  thread_ = std::thread([this] { Serve(); });
  return Status::Ok();
}

void AgentCheck::Stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  for (int* fd : {&listen_fd_, &stop_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

void AgentCheck::Serve() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (client < 0) continue;  // the client left already, or descriptors ran out: next check
    const Server::Load load = server_->CurrentLoad();
    const std::string line =
        AgentLine(server_->IsReady(), leaving_->load(std::memory_order_relaxed), load.utilization);
    // A short line to a fresh socket fits its buffer: one non-blocking send, then close.
    (void)!send(client, line.data(), line.size(), MSG_NOSIGNAL);
    close(client);
  }
}

}  // namespace switchyard::agent
