#include "supervisor/supervision.h"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Verdict = WorkerSupervision::Verdict;
using AfterFailedStart = WorkerSupervision::AfterFailedStart;

SupervisionOptions Options() {
  return {.heartbeat_interval = seconds(1),
          .heartbeat_timeout = seconds(10),
          .execution_timeout = seconds(0),
          .restart_backoff = milliseconds(100),
          .max_restart_backoff = milliseconds(1000),
          .max_failed_restarts = 3};
}

TEST(WorkerSupervisionTest, ABatchFarLongerThanTheHeartbeatTimeoutIsNotALoss) {
  FakeClock clock;
  WorkerSupervision supervision(Options());
  supervision.WorkerReady(clock.Now());
  // A batch of 5 minutes: the worker's busy heartbeat is heard every second.
  for (int s = 0; s < 300; ++s) {
    clock.Advance(seconds(1));
    supervision.Heard(clock.Now());
    EXPECT_FALSE(supervision.ShouldCheckStopped(clock.Now()));
    ASSERT_EQ(supervision.Check(clock.Now(), false), Verdict::kAlive) << s;
  }
  // Without an execution timeout, no batch is ever over time.
  EXPECT_FALSE(supervision.ExecutionTimedOut(clock.Now() - seconds(300), clock.Now()));
}

TEST(WorkerSupervisionTest, SilentPastTheHeartbeatTimeoutIsCondemnedOnce) {
  FakeClock clock;
  WorkerSupervision supervision(Options());
  supervision.WorkerReady(clock.Now());
  clock.Advance(seconds(10));
  EXPECT_EQ(supervision.Check(clock.Now(), false), Verdict::kAlive);  // not *past* it yet
  clock.Advance(milliseconds(1));
  EXPECT_EQ(supervision.Silence(clock.Now()), seconds(10) + milliseconds(1));
  EXPECT_EQ(supervision.Check(clock.Now(), false), Verdict::kSilent);
  // Condemned once: the next check, at once, finds it alive (its loss is on its way).
  EXPECT_EQ(supervision.Check(clock.Now(), false), Verdict::kAlive);
}

TEST(WorkerSupervisionTest, AStoppedWorkerIsAskedAboutAfterTwoIntervalsAndCondemned) {
  FakeClock clock;
  WorkerSupervision supervision(Options());
  supervision.WorkerReady(clock.Now());
  clock.Advance(seconds(2));
  EXPECT_FALSE(supervision.ShouldCheckStopped(clock.Now()));
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(supervision.ShouldCheckStopped(clock.Now()));
  // Long before the heartbeat timeout, a stopped worker is replaced.
  EXPECT_EQ(supervision.Check(clock.Now(), /*stopped=*/true), Verdict::kStopped);
  EXPECT_FALSE(supervision.ShouldCheckStopped(clock.Now()));
}

TEST(WorkerSupervisionTest, TheExecutionTimeoutEndsABatch) {
  SupervisionOptions options = Options();
  options.execution_timeout = seconds(30);
  WorkerSupervision supervision(options);
  FakeClock clock;
  const TimePoint since = clock.Now();
  clock.Advance(seconds(30));
  EXPECT_FALSE(supervision.ExecutionTimedOut(since, clock.Now()));
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(supervision.ExecutionTimedOut(since, clock.Now()));
}

TEST(WorkerSupervisionTest, RestartsBackOffDoublingToTheirMaximum) {
  FakeClock clock;
  WorkerSupervision supervision(Options());
  supervision.WorkerReady(clock.Now());
  supervision.WorkerLost(clock.Now());
  EXPECT_FALSE(supervision.RestartDue(clock.Now()));
  clock.Advance(milliseconds(100));
  EXPECT_TRUE(supervision.RestartDue(clock.Now()));
  // Transient failures (the system short of resources) back off but never give up.
  const milliseconds expected[] = {milliseconds(200), milliseconds(400), milliseconds(800),
                                   milliseconds(1000), milliseconds(1000)};
  for (milliseconds backoff : expected) {
    EXPECT_EQ(supervision.StartFailed(clock.Now(), /*transient=*/true), AfterFailedStart::kRetry);
    EXPECT_EQ(supervision.backoff(), backoff);
    EXPECT_EQ(supervision.restart_at(), clock.Now() + backoff);
    clock.Advance(backoff);
  }
  EXPECT_EQ(supervision.failed_restarts(), 0);
}

TEST(WorkerSupervisionTest, GivesUpAfterMaxFailedRestartsAndAReadyWorkerStartsOver) {
  FakeClock clock;
  WorkerSupervision supervision(Options());
  supervision.WorkerLost(clock.Now());
  EXPECT_EQ(supervision.StartFailed(clock.Now(), false), AfterFailedStart::kRetry);
  EXPECT_EQ(supervision.StartFailed(clock.Now(), false), AfterFailedStart::kRetry);
  supervision.WorkerReady(clock.Now());  // the third try came up: everything starts over
  EXPECT_EQ(supervision.failed_restarts(), 0);
  EXPECT_EQ(supervision.backoff(), milliseconds(100));
  supervision.WorkerLost(clock.Now());
  EXPECT_EQ(supervision.StartFailed(clock.Now(), false), AfterFailedStart::kRetry);
  EXPECT_EQ(supervision.StartFailed(clock.Now(), true), AfterFailedStart::kRetry);  // not counted
  EXPECT_EQ(supervision.StartFailed(clock.Now(), false), AfterFailedStart::kRetry);
  EXPECT_EQ(supervision.StartFailed(clock.Now(), false), AfterFailedStart::kGiveUp);
  EXPECT_EQ(supervision.failed_restarts(), 3);
}

}  // namespace
}  // namespace switchyard
