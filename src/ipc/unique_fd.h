#pragma once
// UniqueFd: sole owner of one file descriptor, closed when the owner goes away. Move-only.
// Not thread-safe (a value type).

#include <unistd.h>

namespace switchyard::ipc {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd` (-1 for none).
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives up ownership without closing; returns the fd (-1 if none).
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Closes the owned fd, if any, and takes ownership of `fd`. close() is not retried on EINTR:
  // Linux releases the descriptor even then, and a retry could close someone else's.
  void reset(int fd = -1) {
    if (fd_ >= 0 && fd_ != fd) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace switchyard::ipc
