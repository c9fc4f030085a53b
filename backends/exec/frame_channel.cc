#include "exec/frame_channel.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

namespace switchyard::exec {
namespace {

constexpr size_t kReadChunk = 1 << 20;

// Sends what it can of pieces[*index] + *offset onwards; false with a message on a hard error.
bool SendSome(int fd, const std::vector<std::span<const uint8_t>>& pieces, size_t* index,
              size_t* offset, std::string* error) {
  while (*index < pieces.size()) {
    iovec iov[64];
    int n = 0;
    for (size_t i = *index; i < pieces.size() && n < 64; ++i) {
      size_t skip = i == *index ? *offset : 0;
      iov[n].iov_base = const_cast<uint8_t*>(pieces[i].data() + skip);
      iov[n].iov_len = pieces[i].size() - skip;
      ++n;
    }
    msghdr msg;
    std::memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(n);
    ssize_t sent = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      *error = errno == EPIPE || errno == ECONNRESET
                   ? std::string("the program closed its stdin before reading the whole frame")
                   : std::string("writing to the program's stdin: ") + std::strerror(errno);
      return false;
    }
    size_t left = static_cast<size_t>(sent);
    while (left > 0 && *index < pieces.size()) {
      size_t avail = pieces[*index].size() - *offset;
      if (left < avail) {
        *offset += left;
        left = 0;
      } else {
        left -= avail;
        ++*index;
        *offset = 0;
      }
    }
  }
  return true;
}

class FrameReader {
 public:
  // PROGRESS and PARTIAL frames read before the `expected` one go to `interim` when it is not
  // null.
  FrameReader(FrameKind expected, uint32_t max_size, const InterimSink* interim)
      : expected_(expected), max_size_(max_size), interim_(interim) {}

  bool done() const { return header_filled_ == kFrameHeaderSize && filled_ == body_size_; }
  bool started() const { return header_filled_ > 0; }
  std::vector<uint8_t> TakeBody() {
    body_.resize(filled_);
    return std::move(body_);
  }

  // Reads what is available. Returns false with `failure` set on EOF, garbage or an I/O error.
  bool ReadSome(int fd, ExchangeFailure* failure, std::string* error) {
    while (!done()) {
      uint8_t* dst;
      size_t want;
      if (header_filled_ < kFrameHeaderSize) {
        dst = header_ + header_filled_;
        want = kFrameHeaderSize - header_filled_;
      } else {
        if (body_.size() == filled_) {
          body_.resize(std::min<size_t>(body_size_, filled_ + std::max(filled_, kReadChunk)));
        }
        dst = body_.data() + filled_;
        want = body_.size() - filled_;
      }
      ssize_t n = recv(fd, dst, want, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        if (errno == ECONNRESET) {  // the program closed with our bytes unread
          *failure = ExchangeFailure::kProgramEnded;
          *error = "the program closed its stdout without reading all of its stdin";
          return false;
        }
        *failure = ExchangeFailure::kIo;
        *error = std::string("reading the program's stdout: ") + std::strerror(errno);
        return false;
      }
      if (n == 0) {
        *failure = ExchangeFailure::kProgramEnded;
        *error = started() ? "the program closed its stdout in the middle of a " +
                                 std::string(FrameKindName(expected_)) + " frame"
                           : "the program closed its stdout";
        return false;
      }
      if (header_filled_ < kFrameHeaderSize) {
        header_filled_ += static_cast<size_t>(n);
        if (header_filled_ == kFrameHeaderSize) {
          auto size = CheckFrameHeader(std::span<const uint8_t>(header_, kFrameHeaderSize),
                                       expected_, max_size_, interim_ != nullptr);
          if (!size.ok()) {
            // Show a little more of what the program wrote than the 5 header bytes.
            uint8_t more[kFrameHeaderSize + 43];
            std::memcpy(more, header_, kFrameHeaderSize);
            ssize_t extra =
                recv(fd, more + kFrameHeaderSize, sizeof(more) - kFrameHeaderSize, MSG_DONTWAIT);
            size_t shown = kFrameHeaderSize + static_cast<size_t>(extra > 0 ? extra : 0);
            size = CheckFrameHeader(std::span<const uint8_t>(more, shown), expected_, max_size_,
                                    interim_ != nullptr);
            *failure = ExchangeFailure::kProtocol;
            *error = size.status().message();
            return false;
          }
          body_size_ = *size - 1;
        }
      } else {
        filled_ += static_cast<size_t>(n);
      }
      if (done() && interim_ != nullptr && IsInterimFrame(header_[4]) &&
          !TakeInterim(failure, error)) {
        return false;
      }
    }
    return true;
  }

 private:
  // Hands a whole PROGRESS or PARTIAL frame to interim_ and starts on the next frame.
  bool TakeInterim(ExchangeFailure* failure, std::string* error) {
    const auto kind = static_cast<FrameKind>(header_[4]);
    sdk::Status taken = (*interim_)(kind, std::span<const uint8_t>(body_.data(), filled_));
    header_filled_ = 0;
    body_size_ = 0;
    filled_ = 0;
    body_.clear();
    if (taken.ok()) return true;
    *failure = ExchangeFailure::kProtocol;
    *error = "malformed " + std::string(FrameKindName(kind)) + " frame: " + taken.message();
    return false;
  }

  FrameKind expected_;
  uint32_t max_size_;
  const InterimSink* interim_;
  uint8_t header_[kFrameHeaderSize] = {};
  size_t header_filled_ = 0;
  size_t body_size_ = 0;
  size_t filled_ = 0;
  std::vector<uint8_t> body_;
};

}  // namespace

ExchangeResult SendFrame(int socket_fd, int pid_fd, const OutgoingFrame& frame, Deadline deadline) {
  ExchangeResult result;
  const std::vector<std::span<const uint8_t>> pieces = frame.Pieces();
  size_t index = 0;
  size_t offset = 0;
  while (index < pieces.size()) {
    if (!SendSome(socket_fd, pieces, &index, &offset, &result.message)) {
      result.failure = ExchangeFailure::kProgramEnded;
      return result;
    }
    if (index == pieces.size()) break;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      result.failure = ExchangeFailure::kTimeout;
      result.message = "timed out writing to the program's stdin (it stopped reading)";
      return result;
    }
    int64_t ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    pollfd fds[2] = {{socket_fd, POLLOUT, 0}, {pid_fd, POLLIN, 0}};
    int r = poll(fds, 2, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
    if (r < 0 && errno != EINTR) {
      result.failure = ExchangeFailure::kIo;
      result.message = std::string("poll: ") + std::strerror(errno);
      return result;
    }
    if (r > 0 && (fds[1].revents & POLLIN) != 0) {
      result.failure = ExchangeFailure::kProgramEnded;
      result.message = "the program ended before reading the whole frame";
      return result;
    }
  }
  return result;
}

ExchangeResult Exchange(int socket_fd, int pid_fd, const OutgoingFrame* frame, FrameKind expected,
                        uint32_t max_size, Deadline deadline, const WatchWhileWaiting* watch,
                        const InterimSink* interim) {
  ExchangeResult result;
  std::vector<std::span<const uint8_t>> pieces;
  if (frame != nullptr) pieces = frame->Pieces();
  const size_t frame_pieces = pieces.size();  // the watch's frames follow
  std::deque<OutgoingFrame> extra;            // owns those frames' bytes
  auto next_watch = std::chrono::steady_clock::now() + kWatchInterval;
  size_t index = 0;
  size_t offset = 0;
  FrameReader reader(expected, max_size, interim);
  auto fail = [&](ExchangeFailure f, std::string message) {
    result.failure = f;
    result.message = std::move(message);
    return result;
  };
  bool program_ended = false;
  while (true) {
    if (reader.done() && index < frame_pieces) {
      return fail(ExchangeFailure::kProtocol,
                  "the program answered before reading the whole " +
                      std::string(frame != nullptr ? "frame" : "input"));
    }
    if (watch != nullptr && index == pieces.size() && !reader.done() &&
        std::chrono::steady_clock::now() >= next_watch) {
      for (OutgoingFrame& more : (*watch)()) {
        extra.push_back(std::move(more));
        for (auto piece : extra.back().Pieces()) pieces.push_back(piece);
      }
      next_watch = std::chrono::steady_clock::now() + kWatchInterval;
    }
    bool write_done = index == pieces.size();
    if (reader.done() && (write_done || program_ended)) {  // the rest of the CANCELs is moot
      result.body = reader.TakeBody();
      return result;
    }
    if (program_ended) {
      return fail(ExchangeFailure::kProgramEnded,
                  reader.started() ? "the program ended in the middle of its " +
                                         std::string(FrameKindName(expected)) + " frame"
                                   : "the program ended before answering");
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return fail(ExchangeFailure::kTimeout,
                  write_done ? "timed out waiting for the program's " +
                                   std::string(FrameKindName(expected)) + " frame"
                             : std::string("timed out writing to the program's stdin (it stopped "
                                           "reading)"));
    }
    int64_t ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    if (watch != nullptr) ms = std::min<int64_t>(ms, kWatchInterval.count());
    const short events = (reader.done() ? 0 : POLLIN) | (write_done ? 0 : POLLOUT);
    pollfd fds[2] = {{socket_fd, events, 0}, {pid_fd, POLLIN, 0}};
    int r = poll(fds, 2, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail(ExchangeFailure::kIo, std::string("poll: ") + std::strerror(errno));
    }
    if (r == 0) continue;
    // Read first: an answer (or EOF) explains a write failure better than EPIPE does.
    ExchangeFailure failure = ExchangeFailure::kNone;
    std::string error;
    if (fds[0].revents != 0 && !reader.ReadSome(socket_fd, &failure, &error)) {
      return fail(failure, error);
    }
    if (!write_done && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP)) != 0 &&
        !SendSome(socket_fd, pieces, &index, &offset, &error)) {
      if (reader.done() && index >= frame_pieces) {  // it answered, then left unread CANCELs
        result.body = reader.TakeBody();
        return result;
      }
      return fail(ExchangeFailure::kProgramEnded, error);
    }
    if ((fds[1].revents & POLLIN) != 0) {
      // The program ended: take what it wrote before, then stop.
      if (!reader.ReadSome(socket_fd, &failure, &error) &&
          failure != ExchangeFailure::kProgramEnded) {
        return fail(failure, error);
      }
      program_ended = true;
    }
  }
}

}  // namespace switchyard::exec
