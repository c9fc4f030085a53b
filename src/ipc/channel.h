#pragma once
// Channel: one end of a connected AF_UNIX SOCK_SEQPACKET socket pair, the control channel
// between the server and a worker process. A message is one datagram: it arrives whole or not at
// all, and message boundaries are kept. A message may carry one file descriptor (SCM_RIGHTS),
// which the peer receives as a new descriptor of its own (close-on-exec).
//
// Thread-safety: Send and Shutdown may be called from any number of threads; concurrent Sends
// are serialized and never interleave. Receive is for one reader thread at a time.
// A moved-from Channel may only be destroyed or assigned to.

#include <cstddef>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "ipc/unique_fd.h"
#include "switchyard/clock.h"
#include "switchyard/status.h"

namespace switchyard::ipc {

class Channel {
 public:
  // The largest message Send accepts and Receive returns.
  // Small enough that a stock kernel's socket buffer limit (net.core.wmem_max, 208 KiB, which
  // the kernel doubles) holds it without privileges. Tensor bytes travel in shared memory; a
  // message only describes them (~110 bytes per request of a two-input model).
  static constexpr std::size_t kMaxMessageBytes = std::size_t{160} << 10;

  struct Received {
    std::vector<std::byte> bytes;  // never empty
    UniqueFd fd;                   // the descriptor sent with the message, if any
  };

  // A connected pair (socketpair with SOCK_CLOEXEC), each end's socket buffers enlarged so a
  // kMaxMessageBytes message fits. Errors: FailedPrecondition if the kernel will not enlarge them
  // (an unprivileged process is capped by sysctl net.core.wmem_max); Internal naming the failed
  // syscall otherwise.
  static StatusOr<std::pair<Channel, Channel>> CreatePair();

  // Adopts one end of a pair made by CreatePair (e.g. inherited by a worker process; the socket
  // options set there travel with the socket).
  explicit Channel(UniqueFd fd);

  Channel(Channel&&) noexcept = default;
  Channel& operator=(Channel&&) noexcept = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel() = default;

  // Sends `message` as one datagram, with `pass_fd` attached when it is >= 0 (the caller keeps
  // its own `pass_fd`; the peer gets a duplicate). Blocks while the socket buffer is full.
  // Errors: InvalidArgument for an empty message or one over kMaxMessageBytes (nothing is sent);
  // Unavailable("... closed") when the peer has closed or either end was shut down;
  // ResourceExhausted when the kernel cannot allocate the datagram; Internal otherwise.
  Status Send(std::span<const std::byte> message, int pass_fd = -1);

  // Blocks until the next message arrives; with `spin` > 0 it first polls for it that long
  // without sleeping (SpinUntilReadable). Messages the peer sent before it closed its end are
  // delivered, even when it closed with messages of ours unread.
  // Errors: Unavailable("... closed") when the peer closed its end (or sent an empty datagram,
  // which SOCK_SEQPACKET cannot tell apart from that) or Shutdown was called; InvalidArgument for
  // a datagram over kMaxMessageBytes, one whose control data was cut (MSG_CTRUNC) or one carrying
  // more than one fd: that datagram is consumed, every fd that came with it is closed, and the
  // next Receive reads the following message; Internal otherwise.
  // REQUIRES: no other thread is in Receive on this channel.
  StatusOr<Received> Receive(Duration spin = Duration::zero());

  // Returns once a message can be received (or the channel closed), or after `spin`, whichever
  // comes first, without sleeping: it spins on poll(2) with a zero timeout. For a reader that
  // expects a message soon and cannot afford a sleeping thread's wake-up.
  void SpinUntilReadable(Duration spin) const;

  // shutdown(SHUT_RDWR): a thread blocked in Receive, here or at the peer, returns Unavailable,
  // and later Sends on either end fail with Unavailable. The fd stays open until destruction.
  void Shutdown();

  // The socket, still owned by the channel (so a launcher can dup2 it into a child process).
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  // Serializes Sends. (The kernel keeps each SEQPACKET datagram whole on its own; the lock makes
  // the promise independent of that.) Heap-allocated so that the channel can move.
  std::unique_ptr<Mutex> send_mu_;
};

}  // namespace switchyard::ipc
