#include "supervisor/worker_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "core/thread_name.h"
#include "fmt/format.h"

extern char** environ;

namespace switchyard {
namespace {

// The server's environment with `overrides` ("KEY=VALUE") replacing or adding entries.
std::vector<std::string> MergedEnvironment(const std::vector<std::string>& overrides) {
  std::map<std::string, std::string> merged;
  auto add = [&](const std::string& entry) {
    auto eq = entry.find('=');
    if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry;
  };
  for (char** e = environ; *e != nullptr; ++e) add(*e);
  for (const auto& entry : overrides) add(entry);
  std::vector<std::string> out;
  for (auto& [key, entry] : merged) out.push_back(std::move(entry));
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// posix_spawn attributes: own process group, default signal handling and an empty signal mask
// (the server blocks signals it waits for; the worker must not inherit that).
class SpawnAttributes {
 public:
  SpawnAttributes() {
    posix_spawnattr_init(&attr_);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr_, &all);
    posix_spawnattr_setsigmask(&attr_, &none);
    posix_spawnattr_setpgroup(&attr_, 0);
    posix_spawnattr_setflags(
        &attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attr_); }
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

// Runs every posix_spawn on one thread that lives as long as the process: a worker's
// parent-death signal fires when the *thread* that started it ends, and the threads asking for
// workers (model loaders, request handlers) may be short-lived.
class Spawner {
 public:
  static Spawner& Get() {
    static Spawner* spawner = new Spawner();  // never destroyed: its thread runs to exit
    return *spawner;
  }
  template <typename Fn>
  auto Run(Fn fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.emplace_back(std::move(task));
    }
    cv_.notify_one();
    return result.get();
  }

 private:
  Spawner() {
    std::thread([this] {
      NameThisThread("sy-spawner");
      Loop();
    }).detach();
  }
  void Loop() {
    while (true) {
      std::packaged_task<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<void()>> tasks_;
};

}  // namespace

StatusOr<std::unique_ptr<WorkerProcess>> WorkerProcess::Spawn(const WorkerCommand& command) {
  return Spawner::Get().Run([&command] { return SpawnHere(command); });
}

StatusOr<std::unique_ptr<WorkerProcess>> WorkerProcess::SpawnHere(const WorkerCommand& command) {
  ASSIGN_OR_RETURN(auto pair, ipc::Channel::CreatePair());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 onto fd 3 clears close-on-exec there; the original stays close-on-exec.
  posix_spawn_file_actions_adddup2(&actions, pair.second.fd(), kWorkerChannelFd);
  std::vector<std::string> argv_strings = {command.executable};
  argv_strings.insert(argv_strings.end(), command.args.begin(), command.args.end());
  std::vector<std::string> env_strings = MergedEnvironment(command.environment);
  std::vector<char*> argv = Pointers(argv_strings);
  std::vector<char*> envp = Pointers(env_strings);
  SpawnAttributes attributes;
  pid_t pid = 0;
  int rc = posix_spawn(&pid, command.executable.c_str(), &actions, attributes.get(), argv.data(),
                       envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::string message =
        fmt::format("cannot start worker '{}': {}", command.executable, std::strerror(rc));
    const bool transient = rc == EAGAIN || rc == ENOMEM || rc == EMFILE || rc == ENFILE;
    return transient ? ResourceExhausted(std::move(message)) : Internal(std::move(message));
  }
  // pair.second (the worker's end) closes here: the worker holds its copy.
  return std::unique_ptr<WorkerProcess>(new WorkerProcess(pid, std::move(pair.first)));
}

WorkerProcess::~WorkerProcess() {
  if (!reaped_) {
    Kill();
    Wait();
  }
}

void WorkerProcess::Kill() {
  if (reaped_) return;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);  // in case it has not reached its own group yet
}

bool WorkerProcess::WaitFor(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      Describe(status);
    } else if (done < 0 && errno != EINTR) {
      return false;
    } else if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return true;
}

std::string WorkerProcess::Wait() {
  if (reaped_) return exit_description_;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  Describe(status);
  return exit_description_;
}

void WorkerProcess::Describe(int status) {
  reaped_ = true;
  if (WIFEXITED(status)) {
    exit_description_ = fmt::format("exited with status {}", WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    exit_description_ =
        fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  } else {
    exit_description_ = "ended";
  }
}

bool WorkerProcess::Stopped() const {
  if (reaped_) return false;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid_));
  std::string line;
  if (!std::getline(stat, line)) return false;
  // "pid (comm) S ...": the state follows the last ')' (comm may hold any character).
  const std::size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return false;
  const char state = line[close + 2];
  return state == 'T' || state == 't';
}

StatusOr<std::string> SelfExecutable() {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return Internal(fmt::format("readlink /proc/self/exe: {}", std::strerror(errno)));
  return std::string(path, static_cast<std::size_t>(n));
}

}  // namespace switchyard
