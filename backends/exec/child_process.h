#pragma once
// One run of a user's program: started with fork + execve (no shell) from the Spawner thread, in
// its own process group, with PR_SET_PDEATHSIG = SIGKILL (it dies with the worker), signals
// reset to their defaults, and no file descriptors but its standard three (and the one
// SpawnSpec::extra_fd names, if any). Its stderr goes
// through a pipe to a reader thread that logs each line and keeps a bounded tail for errors.
//
//   - Stdio::kProtocolSocket (persistent mode): stdin and stdout are one end of a Unix
//     socketpair, the other end is socket_fd() (non-blocking; written with MSG_NOSIGNAL, so a
//     program that went away gives EPIPE, never SIGPIPE).
//   - Stdio::kLogOnly (per_request mode): stdin is /dev/null, stdout joins stderr in the log.
//
// Ending: Finish() sends SIGKILL to the whole process group (which also ends background children
// of the program), reaps the program, stops the reader and returns how the program ended.
// Not thread-safe: one thread uses a ChildProcess at a time.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "exec/spawner.h"
#include "exec/stderr_tail.h"
#include "switchyard/backend_sdk/status.h"
#include "switchyard/backend_sdk/unique_fd.h"

namespace switchyard::exec {

using Deadline = std::chrono::steady_clock::time_point;

struct SpawnSpec {
  enum class Stdio { kProtocolSocket, kLogOnly };
  std::string program;                                   // absolute path executed
  std::vector<std::string> argv;                         // argv[0] as the user wrote it
  std::string working_dir;                               // chdir before exec
  std::vector<std::pair<std::string, std::string>> env;  // set on top of the host's environment
  Stdio stdio = Stdio::kProtocolSocket;
  // When >= 0: also given to the program, as its file descriptor kExtraFd (the shared input
  // region); every other descriptor of ours stays closed to it.
  int extra_fd = -1;
  static constexpr int kExtraFd = 4;
  size_t stderr_tail_lines = 20;
  std::function<void(std::string_view)> log_line;  // each output line; any thread
};

// How a program ended.
struct ExitStatus {
  bool known = false;  // false: it was reaped by someone else (the host reaps all children?)
  bool exited = false;
  int code = 0;    // when exited
  int signal = 0;  // when !exited
  // "exited with status 3", "was killed by signal 9 (KILL)", "ended (exit status unknown)".
  std::string ToString() const;
  bool Success() const { return known && exited && code == 0; }
};

class ChildProcess {
 public:
  // Starts the program. Errors (InvalidArgument or Internal) name the program and the failing
  // step: cannot execute (with errno text), cannot enter the working directory, out of fds.
  static sdk::StatusOr<std::unique_ptr<ChildProcess>> Start(Spawner& spawner,
                                                            const SpawnSpec& spec);
  // Finish()es the program if that has not happened.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  int socket_fd() const { return socket_.get(); }  // -1 for Stdio::kLogOnly
  int pid_fd() const { return pid_fd_.get(); }     // readable once the program has ended
  // Closes the plugin's end of the protocol socket (the program reads EOF).
  void CloseSocket() { socket_.Reset(); }

  // Waits until the program ends or `deadline` passes; true if it ended.
  bool WaitExit(Deadline deadline) const;
  // Kills the process group, reaps the program, stops the stderr reader. Idempotent: later calls
  // return the first result.
  ExitStatus Finish();
  // The last lines of the program's output (stderr). REQUIRES: Finish() was called.
  std::string StderrLines() const { return tail_->Text(); }

 private:
  ChildProcess() = default;
  void ReadStderr();

  pid_t pid_ = -1;
  sdk::UniqueFd pid_fd_;
  sdk::UniqueFd socket_;
  sdk::UniqueFd stderr_;
  sdk::UniqueFd stop_;                      // eventfd: tells the reader to drain and stop
  std::unique_ptr<exec::StderrTail> tail_;  // written by the reader thread until it is joined
  std::thread reader_;
  bool finished_ = false;
  ExitStatus exit_;
};

}  // namespace switchyard::exec
