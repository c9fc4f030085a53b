#include "exec/child_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "exec/frame_channel.h"

namespace switchyard::exec {
namespace {

using std::chrono::steady_clock;
constexpr auto kLongWait = std::chrono::seconds(60);  // generous bound for things that do happen

// Collects logged lines; lets a test wait (bounded) for a line with a prefix.
class LineLog {
 public:
  std::function<void(std::string_view)> Sink() {
    return [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(line);
      cv_.notify_all();
    };
  }
  std::string WaitFor(const std::string& prefix) {
    std::unique_lock<std::mutex> lock(mu_);
    std::string found;
    cv_.wait_for(lock, kLongWait, [&] {
      for (const std::string& l : lines_) {
        if (l.rfind(prefix, 0) == 0) found = l;
      }
      return !found.empty();
    });
    return found;
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

class ChildProcessTest : public ::testing::Test {
 protected:
  SpawnSpec Spec(std::vector<std::string> argv,
                 SpawnSpec::Stdio stdio = SpawnSpec::Stdio::kLogOnly) {
    SpawnSpec spec;
    spec.program = argv[0];
    spec.argv = std::move(argv);
    spec.working_dir = "/";
    spec.stdio = stdio;
    spec.log_line = log_.Sink();
    return spec;
  }
  std::unique_ptr<ChildProcess> Start(const SpawnSpec& spec) {
    auto child = ChildProcess::Start(spawner_, spec);
    EXPECT_TRUE(child.ok()) << child.status().message();
    return child.ok() ? std::move(child).value() : nullptr;
  }
  Spawner spawner_;
  LineLog log_;
};

TEST_F(ChildProcessTest, ReportsExitStatusAndStderrTail) {
  SpawnSpec spec = Spec({"/bin/sh", "-c", "echo out; echo one >&2; echo two >&2; exit 3"});
  spec.stderr_tail_lines = 2;
  auto child = Start(spec);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->WaitExit(steady_clock::now() + kLongWait));
  ExitStatus exit = child->Finish();
  EXPECT_TRUE(exit.known);
  EXPECT_TRUE(exit.exited);
  EXPECT_EQ(exit.code, 3);
  EXPECT_EQ(exit.ToString(), "exited with status 3");
  EXPECT_FALSE(exit.Success());
  EXPECT_EQ(child->StderrLines(), "one\ntwo\n");
  std::vector<std::string> lines = log_.lines();
  std::sort(lines.begin(), lines.end());  // stdout and stderr share the pipe: order is theirs
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "out", "two"}));
  EXPECT_EQ(child->Finish().code, 3);  // idempotent
}

TEST_F(ChildProcessTest, TimeoutKillsTheWholeProcessGroup) {
  // The shell starts a background sleep (a grandchild) and waits: both must die.
  auto child = Start(Spec({"/bin/sh", "-c", "sleep 3600 & echo bg=$! >&2; wait"}));
  ASSERT_NE(child, nullptr);
  std::string line = log_.WaitFor("bg=");
  ASSERT_FALSE(line.empty());
  pid_t grandchild = std::stoi(line.substr(3));
  EXPECT_FALSE(child->WaitExit(steady_clock::now() + std::chrono::milliseconds(50)));
  ExitStatus exit = child->Finish();
  EXPECT_FALSE(exit.exited);
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_EQ(exit.ToString(), "was killed by signal 9 (SIGKILL)");
  // The grandchild got SIGKILL too: it disappears or stays a zombie until init reaps it.
  auto gone = [&] {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string content;
    std::getline(stat, content);
    size_t paren = content.rfind(')');
    return content.empty() || (paren != std::string::npos && content[paren + 2] == 'Z');
  };
  auto deadline = steady_clock::now() + kLongWait;
  while (!gone() && steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_TRUE(gone());
}

TEST_F(ChildProcessTest, OnlyStandardDescriptorsAreInherited) {
  int leaked = dup(2);  // no CLOEXEC: a careless fork + exec would pass it on
  ASSERT_GE(leaked, 0);
  auto child = Start(Spec({"/bin/ls", "/proc/self/fd"}));
  close(leaked);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->WaitExit(steady_clock::now() + kLongWait));
  ASSERT_TRUE(child->Finish().Success());
  std::vector<std::string> lines = log_.lines();
  // 0, 1, 2, and the one ls opens to read the folder.
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()),
            (std::set<std::string>{"0", "1", "2", "3"}));
}

TEST_F(ChildProcessTest, TheExtraDescriptorIsTheOnlyOtherOne) {
  int leaked = dup(2);
  ASSERT_GE(leaked, 0);
  int extra = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(extra, 0);
  SpawnSpec spec = Spec({"/bin/sh", "-c", "ls /proc/self/fd; readlink /proc/self/fd/4"});
  spec.extra_fd = extra;
  auto child = Start(spec);
  close(leaked);
  close(extra);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->WaitExit(steady_clock::now() + kLongWait));
  ASSERT_TRUE(child->Finish().Success());
  std::vector<std::string> lines = log_.lines();
  // 0, 1, 2, the extra one as 4, what ls opens (3), and where 4 points.
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()),
            (std::set<std::string>{"0", "1", "2", "3", "4", "/dev/null"}));
}

TEST_F(ChildProcessTest, SignalsAreResetAndEnvironmentAdded) {
  struct sigaction old_action;
  struct sigaction ignore;
  std::memset(&ignore, 0, sizeof(ignore));
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old_action);  // as a server does
  SpawnSpec spec =
      Spec({"/bin/sh", "-c", "grep SigIgn /proc/self/status; echo foo=$EXEC_TEST_FOO"});
  spec.env = {{"EXEC_TEST_FOO", "bar baz"}};
  auto child = Start(spec);
  sigaction(SIGPIPE, &old_action, nullptr);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->WaitExit(steady_clock::now() + kLongWait));
  ASSERT_TRUE(child->Finish().Success());
  std::string text = child->StderrLines();
  EXPECT_NE(text.find("SigIgn:\t0000000000000000"), std::string::npos) << text;
  EXPECT_NE(text.find("foo=bar baz"), std::string::npos) << text;
}

TEST_F(ChildProcessTest, WorkingDirectoryIsSet) {
  SpawnSpec spec = Spec({"/bin/pwd"});
  spec.working_dir = "/usr";
  auto child = Start(spec);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->WaitExit(steady_clock::now() + kLongWait));
  child->Finish();
  EXPECT_EQ(child->StderrLines(), "/usr\n");
}

TEST_F(ChildProcessTest, StartFailuresAreClear) {
  auto missing = ChildProcess::Start(spawner_, Spec({"/nonexistent/program"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(
                "cannot execute /nonexistent/program: No such file or directory"),
            std::string::npos)
      << missing.status().message();

  SpawnSpec bad_dir = Spec({"/bin/true"});
  bad_dir.working_dir = "/nonexistent-dir";
  auto dir = ChildProcess::Start(spawner_, bad_dir);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("cannot enter the working directory /nonexistent-dir"),
            std::string::npos);

  char tmpl[] = "/tmp/exec-noexec-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "\x7f\x01garbage", 9), 9);
  close(fd);
  chmod(tmpl, 0755);
  auto noexec = ChildProcess::Start(spawner_, Spec({tmpl}));
  unlink(tmpl);
  ASSERT_FALSE(noexec.ok());
  EXPECT_NE(noexec.status().message().find("Exec format error"), std::string::npos)
      << noexec.status().message();
}

// --- Exchange over the protocol socket ---

std::span<const uint8_t> Span(const std::string& s) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST_F(ChildProcessTest, ExchangeWritesAndReadsAtTheSameTime) {
  // cat echoes while we are still writing: 16 MiB overflow both socket buffers many times, so
  // this deadlocks unless reading and writing interleave.
  auto child = Start(Spec({"/bin/cat"}, SpawnSpec::Stdio::kProtocolSocket));
  ASSERT_NE(child, nullptr);
  std::string payload(16 << 20, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31);
  OutgoingFrame frame(static_cast<uint8_t>(FrameKind::kResult));
  frame.writer().U32(1);
  frame.AppendBorrowed(Span(payload));
  ASSERT_TRUE(frame.Finish().ok());
  ExchangeResult r = Exchange(child->socket_fd(), child->pid_fd(), &frame, FrameKind::kResult,
                              UINT32_MAX, steady_clock::now() + kLongWait);
  ASSERT_EQ(r.failure, ExchangeFailure::kNone) << r.message;
  ASSERT_EQ(r.body.size(), 4 + payload.size());
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), r.body.begin() + 4,
                         [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; }));
}

TEST_F(ChildProcessTest, ExchangeFailures) {
  OutgoingFrame frame(static_cast<uint8_t>(FrameKind::kHello));
  ASSERT_TRUE(frame.Finish().ok());
  auto far = steady_clock::now() + kLongWait;
  {
    auto text = Start(
        Spec({"/bin/sh", "-c", "echo Hello there; sleep 3600"}, SpawnSpec::Stdio::kProtocolSocket));
    ASSERT_NE(text, nullptr);
    ExchangeResult r =
        Exchange(text->socket_fd(), text->pid_fd(), &frame, FrameKind::kReady, 100, far);
    EXPECT_EQ(r.failure, ExchangeFailure::kProtocol);
    EXPECT_NE(r.message.find("\"Hello there\\x0a...\""), std::string::npos) << r.message;
  }
  {
    auto exits = Start(Spec({"/bin/sh", "-c", "exit 4"}, SpawnSpec::Stdio::kProtocolSocket));
    ASSERT_NE(exits, nullptr);
    ExchangeResult r =
        Exchange(exits->socket_fd(), exits->pid_fd(), &frame, FrameKind::kReady, 100, far);
    EXPECT_EQ(r.failure, ExchangeFailure::kProgramEnded) << r.message;
    ASSERT_TRUE(exits->WaitExit(far));
    EXPECT_EQ(exits->Finish().code, 4);
  }
  {
    // Never reads nor answers: the deadline ends the exchange.
    auto silent = Start(Spec({"/bin/sleep", "3600"}, SpawnSpec::Stdio::kProtocolSocket));
    ASSERT_NE(silent, nullptr);
    ExchangeResult r = Exchange(silent->socket_fd(), silent->pid_fd(), &frame, FrameKind::kReady,
                                100, steady_clock::now() + std::chrono::milliseconds(100));
    EXPECT_EQ(r.failure, ExchangeFailure::kTimeout);
    EXPECT_NE(r.message.find("timed out waiting for the program's READY frame"), std::string::npos)
        << r.message;
  }
}

}  // namespace
}  // namespace switchyard::exec
