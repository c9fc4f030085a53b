#include "supervisor/worker_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace switchyard {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// `/bin/sh -c script`: the launcher always runs an executable with arguments.
WorkerCommand Shell(std::string script, std::vector<std::string> environment = {}) {
  return WorkerCommand{.executable = "/bin/sh",
                       .args = {"-c", std::move(script)},
                       .environment = std::move(environment)};
}

std::unique_ptr<WorkerProcess> SpawnOrDie(const WorkerCommand& command) {
  auto spawned = WorkerProcess::Spawn(command);
  EXPECT_TRUE(spawned.ok()) << spawned.status().ToString();
  if (!spawned.ok()) return nullptr;
  return std::move(spawned).value();
}

std::string Text(const ipc::Channel::Received& received) {
  return std::string(reinterpret_cast<const char*>(received.bytes.data()), received.bytes.size());
}

Status Send(WorkerProcess& worker, const std::string& text) {
  return worker.channel().Send(
      std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

// Whether `pid` is gone or a zombie (a reparented grandchild may wait for a reaper that a
// container's init never runs).
bool Ended(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

// Polls `predicate` until it holds or `timeout` passes; returns its last value.
template <typename Pred>
bool Eventually(Pred predicate, std::chrono::steady_clock::duration timeout = seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline) return predicate();
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

TEST(WorkerProcessTest, ReportsExitStatus) {
  auto worker = SpawnOrDie(Shell("exit 3"));
  ASSERT_NE(worker, nullptr);
  EXPECT_GT(worker->pid(), 0);
  EXPECT_EQ(worker->Wait(), "exited with status 3");
  EXPECT_EQ(worker->Wait(), "exited with status 3");  // idempotent
  auto clean = SpawnOrDie(Shell("exit 0"));
  ASSERT_NE(clean, nullptr);
  EXPECT_EQ(clean->Wait(), "exited with status 0");
}

TEST(WorkerProcessTest, ReportsTheSignalThatKilledIt) {
  auto worker = SpawnOrDie(Shell("kill -9 $$"));
  ASSERT_NE(worker, nullptr);
  std::string how = worker->Wait();
  EXPECT_EQ(how.rfind("was killed by signal 9", 0), 0u) << how;
  auto segv = SpawnOrDie(Shell("kill -SEGV $$"));
  ASSERT_NE(segv, nullptr);
  how = segv->Wait();
  EXPECT_EQ(how.rfind("was killed by signal 11", 0), 0u) << how;
}

TEST(WorkerProcessTest, EnvironmentOverridesReachTheWorker) {
  ASSERT_EQ(setenv("SWITCHYARD_WP_TEST_INHERITED", "server", 1), 0);
  ASSERT_EQ(setenv("SWITCHYARD_WP_TEST_OVERRIDDEN", "server", 1), 0);
  auto worker =
      SpawnOrDie(Shell("test \"$FOO\" = bar && test \"$SWITCHYARD_WP_TEST_INHERITED\" = server && "
                       "test \"$SWITCHYARD_WP_TEST_OVERRIDDEN\" = worker",
                       {"FOO=bar", "SWITCHYARD_WP_TEST_OVERRIDDEN=worker"}));
  ASSERT_NE(worker, nullptr);
  EXPECT_EQ(worker->Wait(), "exited with status 0");
  // The same script without the overrides fails: the test can tell.
  auto without =
      SpawnOrDie(Shell("test \"$FOO\" = bar && test \"$SWITCHYARD_WP_TEST_OVERRIDDEN\" = worker"));
  ASSERT_NE(without, nullptr);
  EXPECT_EQ(without->Wait(), "exited with status 1");
  unsetenv("SWITCHYARD_WP_TEST_INHERITED");
  unsetenv("SWITCHYARD_WP_TEST_OVERRIDDEN");
}

TEST(WorkerProcessTest, ChannelIsTheWorkersFd3) {
  auto worker = SpawnOrDie(Shell("test -S /proc/$$/fd/3 && printf hello >&3"));
  ASSERT_NE(worker, nullptr);
  auto received = worker->channel().Receive();
  ASSERT_TRUE(received.ok()) << received.status().ToString() << "; worker " << worker->Wait();
  EXPECT_EQ(Text(*received), "hello");
  EXPECT_EQ(worker->Wait(), "exited with status 0");
  // The worker is gone and held the only other end: we see the channel close.
  auto closed = worker->channel().Receive();
  EXPECT_EQ(closed.status().code(), StatusCode::kUnavailable) << closed.status().ToString();
}

TEST(WorkerProcessTest, OurEndOfTheChannelDoesNotLeakIntoTheWorker) {
  // Hold two descriptors so that our end of the pair cannot be fd 3 (which the worker's end
  // replaces in the worker anyway, hiding a leak).
  int held[2] = {open("/dev/null", O_RDONLY | O_CLOEXEC), open("/dev/null", O_RDONLY | O_CLOEXEC)};
  ASSERT_GE(held[0], 0);
  ASSERT_GE(held[1], 0);
  // Our end's fd number is known only after Spawn: the worker reads it from fd 3 (dd reads the
  // whole datagram at once).
  auto worker =
      SpawnOrDie(Shell("n=$(dd bs=64 count=1 <&3 2>/dev/null) && test -n \"$n\" && "
                       "test ! -e /proc/$$/fd/$n && printf ok >&3"));
  close(held[0]);
  close(held[1]);
  ASSERT_NE(worker, nullptr);
  ASSERT_NE(worker->channel().fd(), kWorkerChannelFd);
  ASSERT_TRUE(Send(*worker, std::to_string(worker->channel().fd())).ok());
  auto answer = worker->channel().Receive();
  ASSERT_TRUE(answer.ok()) << answer.status().ToString() << "; worker " << worker->Wait();
  EXPECT_EQ(Text(*answer), "ok");
  EXPECT_EQ(worker->Wait(), "exited with status 0");
}

TEST(WorkerProcessTest, WaitForTimesOutAndKillEndsIt) {
  auto worker = SpawnOrDie(Shell("exec sleep 30"));
  ASSERT_NE(worker, nullptr);
  EXPECT_FALSE(worker->WaitFor(milliseconds(20)));
  worker->Kill();
  EXPECT_TRUE(worker->WaitFor(seconds(20)));
  std::string how = worker->Wait();
  EXPECT_EQ(how.rfind("was killed by signal 9", 0), 0u) << how;
  worker->Kill();  // idempotent after reaping
  EXPECT_EQ(worker->Wait(), how);
}

TEST(WorkerProcessTest, WaitForSeesANormalExit) {
  auto worker = SpawnOrDie(Shell("exit 4"));
  ASSERT_NE(worker, nullptr);
  EXPECT_TRUE(worker->WaitFor(seconds(20)));
  EXPECT_EQ(worker->Wait(), "exited with status 4");
}

TEST(WorkerProcessTest, KillEndsTheWholeProcessGroup) {
  // The worker starts a grandchild and reports its pid; Kill must reach it too.
  auto worker = SpawnOrDie(Shell("sleep 30 & echo $! >&3; wait"));
  ASSERT_NE(worker, nullptr);
  auto received = worker->channel().Receive();
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  pid_t grandchild = std::atoi(Text(*received).c_str());
  ASSERT_GT(grandchild, 0);
  EXPECT_FALSE(Ended(grandchild));
  worker->Kill();
  std::string how = worker->Wait();
  EXPECT_EQ(how.rfind("was killed by signal 9", 0), 0u) << how;
  EXPECT_TRUE(Eventually([&] { return Ended(grandchild); })) << "grandchild " << grandchild;
}

TEST(WorkerProcessTest, DestructorKillsAndReaps) {
  pid_t pid = 0;
  {
    auto worker = SpawnOrDie(Shell("exec sleep 30"));
    ASSERT_NE(worker, nullptr);
    pid = worker->pid();
    ASSERT_EQ(kill(pid, 0), 0);
  }
  // Reaped by the destructor: the pid no longer exists (not even as a zombie).
  errno = 0;
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(WorkerProcessTest, WorkerGetsDefaultSignalHandlingWhateverTheServerSet) {
  // The server ignores and blocks signals it handles itself; a worker must not inherit that.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_action {};
  ASSERT_EQ(sigaction(SIGUSR1, &ignore, &old_action), 0);
  sigset_t usr1, old_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &usr1, &old_mask), 0);
  auto worker = SpawnOrDie(Shell("kill -USR1 $$; exit 0"));
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGUSR1, &old_action, nullptr);
  ASSERT_NE(worker, nullptr);
  std::string how = worker->Wait();
  EXPECT_EQ(how.rfind("was killed by signal " + std::to_string(SIGUSR1), 0), 0u) << how;
}

TEST(WorkerProcessTest, MissingExecutableIsAnError) {
  auto spawned = WorkerProcess::Spawn(WorkerCommand{.executable = "/nonexistent/switchyard"});
  ASSERT_FALSE(spawned.ok());
  EXPECT_NE(spawned.status().message().find("cannot start worker"), std::string::npos)
      << spawned.status().ToString();
}

}  // namespace
}  // namespace switchyard
