#include "bench/open_loop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace switchyard::bench {
namespace {

using std::chrono::milliseconds;

// Time moves only when the test says; WakeAt only records what was asked.
class FakeContext final : public ArrivalContext {
 public:
  TimePoint Now() const override { return clock_.Now(); }
  void WakeAt(TimePoint when) override { wake_at_ = when; }

  TimePoint start() const { return start_; }
  std::optional<TimePoint> wake_at() const { return wake_at_; }
  // Moves time to `start + offset` and fires the pending wake-up if it is due.
  void AdvanceTo(ArrivalProcess& process, Duration offset) {
    clock_.Advance(start_ + offset - clock_.Now());
    if (wake_at_ && *wake_at_ <= clock_.Now()) {
      wake_at_.reset();
      process.OnTimer();
    }
  }

 private:
  FakeClock clock_;
  const TimePoint start_ = clock_.Now();
  std::optional<TimePoint> wake_at_;
};

// Records what it was asked to send; busy from Send until the test calls Finish.
class FakeSession final : public LoadSession {
 public:
  void Send(const Arrival& arrival) override {
    EXPECT_FALSE(busy_) << "Send on a busy session";
    busy_ = true;
    sent.push_back(arrival);
  }
  void Finish(ArrivalProcess& process) {
    busy_ = false;
    process.OnIdle(*this);
  }
  bool busy() const { return busy_; }

  std::vector<Arrival> sent;

 private:
  bool busy_ = false;
};

std::unique_ptr<OpenLoop> Replay(std::vector<Duration> offsets) {
  return std::make_unique<OpenLoop>(std::make_unique<ListSchedule>(std::move(offsets)));
}

TEST(OpenLoopTest, SendsWhenDueOnAnIdleConnection) {
  FakeContext context;
  auto loop = Replay({milliseconds(10), milliseconds(20)});
  FakeSession a;
  FakeSession b;
  loop->Start(context);
  loop->OnIdle(a);
  loop->OnIdle(b);
  EXPECT_EQ(context.wake_at(), context.start() + milliseconds(10));
  EXPECT_FALSE(a.busy() || b.busy());

  context.AdvanceTo(*loop, milliseconds(10));
  ASSERT_EQ(b.sent.size() + a.sent.size(), 1u);
  FakeSession& first = b.busy() ? b : a;  // the most recently idle is used first
  EXPECT_EQ(&first, &b);
  EXPECT_EQ(first.sent[0].due, context.start() + milliseconds(10));
  EXPECT_FALSE(first.sent[0].late);
  EXPECT_EQ(context.wake_at(), context.start() + milliseconds(20));
  EXPECT_FALSE(loop->Finished());

  context.AdvanceTo(*loop, milliseconds(20));
  ASSERT_EQ(a.sent.size(), 1u);
  EXPECT_FALSE(a.sent[0].late);
  EXPECT_FALSE(context.wake_at().has_value());
  EXPECT_TRUE(loop->Finished());
  EXPECT_EQ(loop->Backlog(), 0);
}

TEST(OpenLoopTest, ArrivalsFindingEveryConnectionBusyAreLateAndKeepTheirDueTime) {
  FakeContext context;
  auto loop = Replay({milliseconds(1), milliseconds(2), milliseconds(3), milliseconds(4)});
  FakeSession only;
  loop->Start(context);
  loop->OnIdle(only);

  context.AdvanceTo(*loop, milliseconds(1));  // sent on time
  context.AdvanceTo(*loop, milliseconds(2));  // the connection is busy: late
  context.AdvanceTo(*loop, milliseconds(3));  // late too
  ASSERT_EQ(only.sent.size(), 1u);
  EXPECT_EQ(loop->Backlog(), 2);
  EXPECT_FALSE(loop->Finished());

  context.AdvanceTo(*loop, milliseconds(50));  // the 4 ms arrival, late as well
  EXPECT_EQ(loop->Backlog(), 3);
  EXPECT_FALSE(loop->Finished());  // exhausted, but three still wait

  // Each answer frees the connection for the oldest waiting arrival, first come first served.
  only.Finish(*loop);
  only.Finish(*loop);
  only.Finish(*loop);
  ASSERT_EQ(only.sent.size(), 4u);
  EXPECT_FALSE(only.sent[0].late);
  for (int i = 1; i < 4; ++i) {
    EXPECT_TRUE(only.sent[i].late) << i;
    EXPECT_EQ(only.sent[i].due, context.start() + milliseconds(i + 1)) << i;
  }
  EXPECT_EQ(loop->Backlog(), 0);
  EXPECT_TRUE(loop->Finished());

  only.Finish(*loop);  // nothing left: the connection stays idle
  EXPECT_EQ(only.sent.size(), 4u);
}

TEST(OpenLoopTest, ABurstIsSentOnAsManyConnectionsAsAreIdle) {
  FakeContext context;
  auto loop = Replay({milliseconds(5), milliseconds(5), milliseconds(5)});
  FakeSession a;
  FakeSession b;
  loop->Start(context);
  loop->OnIdle(a);
  loop->OnIdle(b);
  context.AdvanceTo(*loop, milliseconds(5));
  EXPECT_EQ(a.sent.size() + b.sent.size(), 2u);
  EXPECT_EQ(loop->Backlog(), 1);
  a.Finish(*loop);
  EXPECT_EQ(a.sent.size(), 2u);
  EXPECT_TRUE(a.sent[1].late);
  EXPECT_TRUE(loop->Finished());
}

TEST(OpenLoopTest, ALaggingTimerSendsEverythingDueAtOnceWithItsOwnDueTime) {
  FakeContext context;
  auto loop = std::make_unique<OpenLoop>(std::make_unique<ConstantSchedule>(0.001, 0.001));
  std::vector<FakeSession> sessions(8);
  loop->Start(context);
  for (FakeSession& session : sessions) loop->OnIdle(session);
  context.AdvanceTo(*loop, milliseconds(5));  // woken 4 ms late: 1..5 ms are due
  std::vector<TimePoint> dues;
  for (const FakeSession& session : sessions) {
    for (const Arrival& arrival : session.sent) {
      EXPECT_FALSE(arrival.late);
      dues.push_back(arrival.due);
    }
  }
  std::sort(dues.begin(), dues.end());
  ASSERT_EQ(dues.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(dues[i], context.start() + milliseconds(i + 1));
  EXPECT_EQ(context.wake_at(), context.start() + milliseconds(6));
  EXPECT_FALSE(loop->Finished());  // a rate never ends
}

TEST(OpenLoopTest, EmptyScheduleFinishesAtOnce) {
  FakeContext context;
  auto loop = Replay({});
  FakeSession a;
  loop->Start(context);
  loop->OnIdle(a);
  EXPECT_TRUE(loop->Finished());
  EXPECT_FALSE(context.wake_at().has_value());
  EXPECT_TRUE(a.sent.empty());
}

}  // namespace
}  // namespace switchyard::bench
