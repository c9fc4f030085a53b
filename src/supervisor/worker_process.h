#pragma once
// A worker process as the server sees it: started with posix_spawn in a process group of its
// own, with one end of a control channel as its fd 3 and extra environment
// (CUDA_VISIBLE_DEVICES, ...); killed as a group; reaped with a description of how it ended.
// Thread-safety: Kill and pid from any thread; Wait from one thread.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ipc/channel.h"
#include "switchyard/status.h"

namespace switchyard {

struct WorkerCommand {
  std::string executable;                // usually this very binary (/proc/self/exe)
  std::vector<std::string> args;         // argv[1..]
  std::vector<std::string> environment;  // "KEY=VALUE" entries that override the server's own
};
// Besides its channel, a worker inherits exactly the server's fds that are not close-on-exec
// (the server opens everything close-on-exec except what workers must share, such as simulated
// devices).

// The fd number the worker finds its channel at.
inline constexpr int kWorkerChannelFd = 3;

class WorkerProcess {
 public:
  // Starts the worker. Fails if the channel cannot be made or posix_spawn fails:
  // ResourceExhausted when the system is out of descriptors, processes or memory (transient).
  static StatusOr<std::unique_ptr<WorkerProcess>> Spawn(const WorkerCommand& command);
  ~WorkerProcess();  // kills the group and reaps the worker if Wait was not called

  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  pid_t pid() const { return pid_; }
  ipc::Channel& channel() { return channel_; }

  // SIGKILL to the worker's process group (the worker and whatever it started). Idempotent.
  void Kill();
  // Whether the worker is stopped (SIGSTOP, SIGTSTP, a debugger): alive, but running nothing.
  bool Stopped() const;
  // Waits until the worker has exited and describes how: "exited with status 2", "was killed by
  // signal 9 (Killed)". Idempotent (later calls return the same text).
  std::string Wait();
  // Waits up to `timeout` for the worker to exit by itself; true if it did (Wait then returns
  // at once). Polls every few milliseconds: meant for shutdown, not for hot paths.
  bool WaitFor(std::chrono::milliseconds timeout);

 private:
  WorkerProcess(pid_t pid, ipc::Channel channel) : pid_(pid), channel_(std::move(channel)) {}
  // Spawn's work, on the spawner thread.
  static StatusOr<std::unique_ptr<WorkerProcess>> SpawnHere(const WorkerCommand& command);
  // Records how the worker ended from a waitpid status.
  void Describe(int status);

  const pid_t pid_;
  ipc::Channel channel_;
  std::atomic<bool> reaped_{false};
  std::string exit_description_;
};

// This executable's path (/proc/self/exe resolved), for spawning workers of the same build.
StatusOr<std::string> SelfExecutable();

}  // namespace switchyard
