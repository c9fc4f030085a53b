#include "ipc/channel.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace switchyard::ipc {
namespace {

// An AF_UNIX datagram is charged to the sender's buffer: sendmsg fails with EMSGSIZE when it is
// larger than SO_SNDBUF minus a few bytes. The kernel doubles the requested value (for its own
// bookkeeping) and caps the request at net.core.wmem_max unless SO_SNDBUFFORCE is used.
constexpr int kBufferRequest = static_cast<int>(Channel::kMaxMessageBytes) + (64 << 10);
constexpr int kSendBufferNeeded = static_cast<int>(Channel::kMaxMessageBytes) + (4 << 10);
// Room for a few fds, so that a peer sending more than one is seen (and closed) rather than
// silently cut by the kernel.
constexpr std::size_t kMaxFdsSeen = 4;

Status ErrnoStatus(std::string_view call, int error) {
  switch (error) {
    case EPIPE:
    case ECONNRESET:
    case ECONNREFUSED:
    case ENOTCONN:
      return Unavailable(fmt::format("ipc channel closed ({}: {})", call, std::strerror(error)));
    case ENOBUFS:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
      return ResourceExhausted(fmt::format("{}: {}", call, std::strerror(error)));
    default:
      return Internal(fmt::format("{}: {}", call, std::strerror(error)));
  }
}

// Whether a failed receive is to be tried again. ECONNRESET only says that the peer ended with
// messages of ours unread: the kernel reports it (once) ahead of the messages the peer had sent
// before, which the next call delivers, and then the end of the channel.
bool RetryReceive(int error) { return error == EINTR || error == ECONNRESET; }

StatusOr<int> GetIntOption(int fd, int option, std::string_view name) {
  int value = 0;
  socklen_t length = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, option, &value, &length) != 0) {
    return ErrnoStatus(fmt::format("getsockopt({})", name), errno);
  }
  return value;
}

Status EnlargeBuffers(int fd) {
  const int request = kBufferRequest;
  // Best effort for SO_RCVBUF: AF_UNIX does not charge datagrams to the receiver's buffer.
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &request, sizeof request);
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &request, sizeof request) != 0) {
    return ErrnoStatus("setsockopt(SO_SNDBUF)", errno);
  }
  ASSIGN_OR_RETURN(int send_buffer, GetIntOption(fd, SO_SNDBUF, "SO_SNDBUF"));
  if (send_buffer >= kSendBufferNeeded) return Status::Ok();
  // A process with CAP_NET_ADMIN may go past net.core.wmem_max.
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &request, sizeof request) == 0) {
    ASSIGN_OR_RETURN(send_buffer, GetIntOption(fd, SO_SNDBUF, "SO_SNDBUF"));
    if (send_buffer >= kSendBufferNeeded) return Status::Ok();
  }
  return FailedPrecondition(fmt::format(
      "socket send buffer is {} bytes, {} needed for {}-byte ipc messages: raise sysctl "
      "net.core.wmem_max to at least {}",
      send_buffer, kSendBufferNeeded, Channel::kMaxMessageBytes, kBufferRequest));
}

// Takes ownership of every fd in the SCM_RIGHTS control messages of `message`.
std::vector<UniqueFd> TakeFds(msghdr& message) {
  std::vector<UniqueFd> fds;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&message); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(&message, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char* data = CMSG_DATA(cmsg);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
    }
  }
  return fds;
}

}  // namespace

StatusOr<std::pair<Channel, Channel>> Channel::CreatePair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoStatus("socketpair", errno);
  }
  UniqueFd a(fds[0]);
  UniqueFd b(fds[1]);
  RETURN_IF_ERROR(EnlargeBuffers(a.get()));
  RETURN_IF_ERROR(EnlargeBuffers(b.get()));
  return std::pair<Channel, Channel>(Channel(std::move(a)), Channel(std::move(b)));
}

Channel::Channel(UniqueFd fd) : fd_(std::move(fd)), send_mu_(std::make_unique<Mutex>()) {}

Status Channel::Send(std::span<const std::byte> message, int pass_fd) {
  if (message.empty()) return InvalidArgument("empty ipc message");
  if (message.size() > kMaxMessageBytes) {
    return InvalidArgument(fmt::format("ipc message of {} bytes is over the limit of {}",
                                       message.size(), kMaxMessageBytes));
  }
  if (!fd_.valid()) return FailedPrecondition("ipc channel has no socket");

  iovec iov{const_cast<std::byte*>(message.data()), message.size()};
  msghdr header{};
  header.msg_iov = &iov;
  header.msg_iovlen = 1;
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int))] = {};
  if (pass_fd >= 0) {
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
  }

  MutexLock lock(send_mu_.get());
  while (true) {
    const ssize_t sent = ::sendmsg(fd_.get(), &header, MSG_NOSIGNAL);
    if (sent >= 0) {
      // SOCK_SEQPACKET sends a datagram whole or not at all.
      if (static_cast<std::size_t>(sent) != message.size()) {
        return Internal(fmt::format("sendmsg sent {} of {} bytes", sent, message.size()));
      }
      return Status::Ok();
    }
    if (errno != EINTR) return ErrnoStatus("sendmsg", errno);
  }
}

void Channel::SpinUntilReadable(Duration spin) const {
  Clock* clock = SteadyClock::Get();
  const TimePoint until = clock->Now() + spin;
  pollfd pfd{.fd = fd_.get(), .events = POLLIN, .revents = 0};
  do {
    if (::poll(&pfd, 1, 0) != 0) return;  // readable, closed, or an error Receive will report
  } while (clock->Now() < until);
}

StatusOr<Channel::Received> Channel::Receive(Duration spin) {
  if (!fd_.valid()) return FailedPrecondition("ipc channel has no socket");
  if (spin > Duration::zero()) SpinUntilReadable(spin);

  // Learn the datagram's length first (MSG_TRUNC makes recv return the full length), so the
  // buffer is exactly as large as the message. A peek without a control buffer installs no fds.
  ssize_t length;
  do {
    length = ::recv(fd_.get(), nullptr, 0, MSG_PEEK | MSG_TRUNC);
  } while (length < 0 && RetryReceive(errno));
  if (length < 0) return ErrnoStatus("recv", errno);
  if (length == 0) return Unavailable("ipc channel closed");
  const bool oversize = static_cast<std::size_t>(length) > kMaxMessageBytes;

  // An oversize datagram is read into no buffer at all: it is consumed and dropped.
  std::vector<std::byte> bytes(oversize ? 0 : static_cast<std::size_t>(length));
  iovec iov{bytes.data(), bytes.size()};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int) * kMaxFdsSeen)];
  msghdr header{};
  header.msg_iov = &iov;
  header.msg_iovlen = 1;
  header.msg_control = control;
  header.msg_controllen = sizeof control;
  ssize_t received;
  do {
    received = ::recvmsg(fd_.get(), &header, MSG_CMSG_CLOEXEC);
  } while (received < 0 && RetryReceive(errno));
  if (received < 0) return ErrnoStatus("recvmsg", errno);
  // Owned from here on, so that every return below closes what it does not hand out.
  std::vector<UniqueFd> fds = TakeFds(header);

  // Before the check for 0: an oversize datagram read into no buffer also returns 0.
  if (oversize || (header.msg_flags & MSG_TRUNC) != 0) {
    return InvalidArgument(fmt::format("received an ipc message of {} bytes, over the limit of {}",
                                       length, kMaxMessageBytes));
  }
  if (received == 0) return Unavailable("ipc channel closed");
  if ((header.msg_flags & MSG_CTRUNC) != 0) {
    return InvalidArgument("received an ipc message whose control data was truncated");
  }
  if (fds.size() > 1) {
    return InvalidArgument(fmt::format("received an ipc message with {} fds", fds.size()));
  }
  bytes.resize(static_cast<std::size_t>(received));
  Received result{std::move(bytes), {}};
  if (!fds.empty()) result.fd = std::move(fds.front());
  return result;
}

void Channel::Shutdown() {
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
}

}  // namespace switchyard::ipc
