#include "exec/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "exec/command_line.h"

extern char** environ;

namespace switchyard::exec {
namespace {

// What the child reports through the exec-error pipe when it cannot exec.
enum ChildStep : int { kStepPrctl = 1, kStepFds = 2, kStepChdir = 3, kStepExec = 4 };
struct ChildReport {
  int step;
  int err;
};

// Everything the child needs, prepared before fork: between fork and exec the child may only
// make async-signal-safe calls (no allocation: another thread may hold the malloc lock).
struct ChildPlan {
  const char* program;
  char* const* argv;
  char* const* envp;
  const char* dir;
  int std_fds[3];  // become 0, 1, 2
  int report_fd;   // becomes 3 until exec closes it
  int extra_fd;    // becomes SpawnSpec::kExtraFd when >= 0
  pid_t parent;
};

[[noreturn]] void ChildFail(int report_fd, int step) {
  ChildReport r{step, errno};
  ssize_t ignored = write(report_fd, &r, sizeof(r));
  (void)ignored;
  _exit(127);
}

[[noreturn]] void ChildMain(const ChildPlan& plan) {
  setpgid(0, 0);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(plan.report_fd, kStepPrctl);
  if (getppid() != plan.parent) _exit(127);  // the worker is already gone

  // Dispositions set to "ignore" (the host likely ignores SIGPIPE) and the signal mask survive
  // exec: give the program the defaults.
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &sa, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  // Move every source above 9 first, so that dup2 onto 0..4 never clobbers a source that
  // happens to live there (the host may have closed its own stdin).
  int high[5];
  const int sources[5] = {plan.std_fds[0], plan.std_fds[1], plan.std_fds[2], plan.report_fd,
                          plan.extra_fd};
  const int count = plan.extra_fd >= 0 ? 5 : 4;
  for (int i = 0; i < count; ++i) {
    high[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, 10);
    if (high[i] < 0) ChildFail(plan.report_fd, kStepFds);
  }
  for (int i = 0; i < count; ++i) {  // dup2's copy is not close-on-exec
    if (dup2(high[i], i) < 0) ChildFail(high[3], kStepFds);
  }
  static_assert(SpawnSpec::kExtraFd == 4);
  fcntl(3, F_SETFD, FD_CLOEXEC);  // the report pipe closes at exec: EOF means success
  if (close_range(static_cast<unsigned>(count), ~0U, 0) != 0) {
    struct rlimit rl;
    int limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
                        rl.rlim_cur < (1u << 20)
                    ? static_cast<int>(rl.rlim_cur)
                    : 65536;
    for (int fd = count; fd < limit; ++fd) close(fd);
  }
  if (chdir(plan.dir) != 0) ChildFail(3, kStepChdir);
  execve(plan.program, plan.argv, plan.envp);
  ChildFail(3, kStepExec);
}

std::string Errno(int err) { return std::strerror(err); }

sdk::Status Failure(const SpawnSpec& spec, ChildReport r) {
  std::string program = QuoteForDisplay(spec.program);
  switch (r.step) {
    case kStepChdir:
      return sdk::InvalidArgument("cannot start " + program +
                                  ": cannot enter the working directory " + spec.working_dir +
                                  ": " + Errno(r.err));
    case kStepExec: {
      std::string hint;
      if (r.err == ENOENT) hint = " (if it is a script, check the interpreter on its #! line)";
      if (r.err == ENOEXEC) hint = " (not a binary, and it has no #! line)";
      return sdk::InvalidArgument("cannot execute " + program + ": " + Errno(r.err) + hint);
    }
    case kStepPrctl:
      return sdk::Internal("cannot start " + program +
                           ": prctl(PR_SET_PDEATHSIG): " + Errno(r.err));
    default:
      return sdk::Internal("cannot start " + program +
                           ": setting up its file descriptors: " + Errno(r.err));
  }
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (!known) return "ended (exit status unknown)";
  if (exited) return "exited with status " + std::to_string(code);
  const char* abbrev = sigabbrev_np(signal);
  return "was killed by signal " + std::to_string(signal) +
         (abbrev != nullptr ? std::string(" (SIG") + abbrev + ")" : std::string());
}

sdk::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(Spawner& spawner,
                                                                 const SpawnSpec& spec) {
  // Prepare argv and envp (allocation is not allowed after fork).
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view key = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& [k, v] : spec.env) overridden = overridden || k == key;
    if (!overridden) env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  std::unique_ptr<ChildProcess> child(new ChildProcess());
  sdk::Status status;
  spawner.Run([&] {
    sdk::UniqueFd child_in, child_out, child_err, report_read, report_write;
    int fds[2];
    if (spec.stdio == SpawnSpec::Stdio::kProtocolSocket) {
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        status = sdk::Internal("socketpair: " + Errno(errno));
        return;
      }
      child->socket_.Reset(fds[0]);
      child_in.Reset(fds[1]);
    } else {
      int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null_fd < 0) {
        status = sdk::Internal("open /dev/null: " + Errno(errno));
        return;
      }
      child_in.Reset(null_fd);
    }
    if (pipe2(fds, O_CLOEXEC) != 0) {
      status = sdk::Internal("pipe: " + Errno(errno));
      return;
    }
    child->stderr_.Reset(fds[0]);
    child_err.Reset(fds[1]);
    if (pipe2(fds, O_CLOEXEC) != 0) {
      status = sdk::Internal("pipe: " + Errno(errno));
      return;
    }
    report_read.Reset(fds[0]);
    report_write.Reset(fds[1]);
    child->stop_.Reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!child->stop_.valid()) {
      status = sdk::Internal("eventfd: " + Errno(errno));
      return;
    }
    ChildPlan plan{
        spec.program.c_str(),
        argv.data(),
        envp.data(),
        spec.working_dir.c_str(),
        {child_in.get(),
         spec.stdio == SpawnSpec::Stdio::kProtocolSocket ? child_in.get() : child_err.get(),
         child_err.get()},
        report_write.get(),
        spec.extra_fd,
        getpid()};
    pid_t pid = fork();
    if (pid < 0) {
      status = sdk::Internal("fork: " + Errno(errno));
      return;
    }
    if (pid == 0) ChildMain(plan);
    child->pid_ = pid;
    setpgid(pid, pid);  // also here, so that a kill of the group cannot come before the child's
    child->pid_fd_.Reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    int pidfd_errno = errno;
    child_in.Reset();
    child_err.Reset();
    report_write.Reset();
    ChildReport report;
    ssize_t n;
    do {
      n = read(report_read.get(), &report, sizeof(report));
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof(report))) {
      status = Failure(spec, report);
    } else if (!child->pid_fd_.valid()) {
      status =
          sdk::Internal("pidfd_open: " + Errno(pidfd_errno) + " (Linux 5.3 or later is needed)");
    }
  });
  child->tail_ = std::make_unique<exec::StderrTail>(spec.stderr_tail_lines, spec.log_line);
  if (child->pid_ > 0) {
    child->reader_ = std::thread([c = child.get()] { c->ReadStderr(); });
  }
  if (!status.ok()) {
    child->Finish();
    return status;
  }
  return child;
}

ChildProcess::~ChildProcess() { Finish(); }

void ChildProcess::ReadStderr() {
  int flags = fcntl(stderr_.get(), F_GETFL);
  fcntl(stderr_.get(), F_SETFL, flags | O_NONBLOCK);
  char buf[4096];
  while (true) {
    pollfd fds[2] = {{stderr_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    bool eof = false;
    while (true) {
      ssize_t n = read(stderr_.get(), buf, sizeof(buf));
      if (n > 0) {
        tail_->Feed(std::string_view(buf, static_cast<size_t>(n)));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        eof = n == 0 || errno != EAGAIN;
        break;
      }
    }
    if (eof || (fds[1].revents & POLLIN) != 0) break;
  }
  tail_->Finish();
}

bool ChildProcess::WaitExit(Deadline deadline) const {
  while (true) {
    auto now = std::chrono::steady_clock::now();
    int64_t ms =
        now >= deadline ? 0 : std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    pollfd fd{pid_fd_.get(), POLLIN, 0};
    int r = poll(&fd, 1, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
    if (r > 0) return true;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
}

ExitStatus ChildProcess::Finish() {
  if (finished_) return exit_;
  finished_ = true;
  socket_.Reset();
  if (pid_ > 0) {
    // The leader is unreaped (at worst a zombie) until waitpid below, so its process group id
    // cannot have been reused: this reaches only the program and its own children.
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int st = 0;
    pid_t r;
    do {
      r = waitpid(pid_, &st, 0);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) {
      exit_.known = true;
      exit_.exited = WIFEXITED(st);
      exit_.code = exit_.exited ? WEXITSTATUS(st) : 0;
      exit_.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    }
  }
  if (reader_.joinable()) {
    eventfd_write(stop_.get(), 1);
    reader_.join();
  }
  return exit_;
}

}  // namespace switchyard::exec
