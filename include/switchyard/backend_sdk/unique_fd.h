#pragma once
// UniqueFd: owns a POSIX file descriptor and closes it on destruction.
//
// Part of the backend SDK (include/switchyard/backend_sdk/): header-only, C++17 and later;
// optional for plugins (docs/plugin-abi.md).

#include <unistd.h>

#include <utility>

namespace switchyard::sdk {

// Move-only. -1 means "none". Thread-safety: like an int; one owner at a time.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership: returns the descriptor (or -1) without closing it.
  int Release() { return std::exchange(fd_, -1); }
  // Closes the descriptor held, if any (unless it is `fd`), and takes `fd`. close() is not
  // retried on EINTR: Linux releases the descriptor even then, and a retry could close someone
  // else's.
  void Reset(int fd = -1) {
    if (fd_ >= 0 && fd_ != fd) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace switchyard::sdk
