#pragma once
// Moves frames over the protocol socket of a running program: writes one frame while reading the
// answer at the same time (poll), so neither side can block the other however large the tensors
// are, and gives up at a deadline or when the program ends.

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "exec/child_process.h"
#include "exec/frame_protocol.h"
#include "exec/outgoing_frame.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {

// Why an exchange failed. Every failure leaves the stream in an unknown state: the caller must end
// the program.
enum class ExchangeFailure { kNone, kTimeout, kProgramEnded, kProtocol, kIo };

struct ExchangeResult {
  ExchangeFailure failure = ExchangeFailure::kNone;
  std::string message;        // when failure != kNone
  std::vector<uint8_t> body;  // the answer's body (after the kind byte) when failure == kNone
};

// While Exchange waits for the answer (its own frame sent), it calls this about every
// kWatchInterval; the frames it returns (CANCELs) are sent next, each whole, before Exchange
// returns.
using WatchWhileWaiting = std::function<std::vector<OutgoingFrame>()>;
inline constexpr std::chrono::milliseconds kWatchInterval{50};

// Takes each PROGRESS or PARTIAL frame (its kind and body) read while Exchange waits for its
// answer; an error is a protocol error (the exchange fails with it).
using InterimSink = std::function<sdk::Status(FrameKind kind, std::span<const uint8_t> body)>;

// Sends `frame` (if not null) on `socket_fd` (non-blocking) and reads one frame of kind
// `expected` of at most `max_size` bytes, until `deadline`. `pid_fd` becomes readable when the
// program ends; the bytes it wrote before are still read. `watch` may be null. With `interim`,
// PROGRESS and PARTIAL frames may come before the answer and go there; without, they are
// protocol errors.
ExchangeResult Exchange(int socket_fd, int pid_fd, const OutgoingFrame* frame, FrameKind expected,
                        uint32_t max_size, Deadline deadline,
                        const WatchWhileWaiting* watch = nullptr,
                        const InterimSink* interim = nullptr);

// Writes `frame` whole on `socket_fd` (non-blocking) without reading, until `deadline`: for a
// program that reads its stdin on a thread of its own while it answers (a pipelined program;
// its answers are read meanwhile by another thread). ExchangeResult::body stays empty.
ExchangeResult SendFrame(int socket_fd, int pid_fd, const OutgoingFrame& frame, Deadline deadline);

}  // namespace switchyard::exec
