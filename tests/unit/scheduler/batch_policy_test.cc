#include "scheduler/batch_policy.h"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

using std::chrono::microseconds;

TEST(BatchPolicyTest, NoBatchingCutsOneRequest) {
  BatchPolicy policy{.max_batch_size = 0, .max_queue_delay = microseconds(500)};
  FakeClock clock;
  BatchDecision d = DecideBatch(policy, 5, clock.Now(), clock.Now());
  EXPECT_TRUE(d.cut);
  EXPECT_EQ(d.max_items, 1);
}

TEST(BatchPolicyTest, FullBatchCutsAtOnce) {
  BatchPolicy policy{.max_batch_size = 8, .max_queue_delay = microseconds(500)};
  FakeClock clock;
  BatchDecision d = DecideBatch(policy, 9, clock.Now(), clock.Now());
  EXPECT_TRUE(d.cut);
  EXPECT_EQ(d.max_items, 8);
}

TEST(BatchPolicyTest, WaitsForDelayThenCutsWhatThereIs) {
  BatchPolicy policy{.max_batch_size = 8, .max_queue_delay = microseconds(500)};
  FakeClock clock;
  TimePoint head = clock.Now();
  BatchDecision d = DecideBatch(policy, 3, head, clock.Now());
  EXPECT_FALSE(d.cut);
  EXPECT_EQ(d.wait_until, head + microseconds(500));
  clock.Advance(microseconds(499));
  EXPECT_FALSE(DecideBatch(policy, 3, head, clock.Now()).cut);
  clock.Advance(microseconds(1));
  d = DecideBatch(policy, 3, head, clock.Now());
  EXPECT_TRUE(d.cut);
  EXPECT_EQ(d.max_items, 8);
}

TEST(BatchPolicyTest, PreferredSizeCutsBeforeDelay) {
  BatchPolicy policy{
      .max_batch_size = 16, .max_queue_delay = microseconds(500), .preferred_batch_sizes = {4, 8}};
  FakeClock clock;
  EXPECT_FALSE(DecideBatch(policy, 3, clock.Now(), clock.Now()).cut);
  BatchDecision d = DecideBatch(policy, 5, clock.Now(), clock.Now());
  EXPECT_TRUE(d.cut);
  EXPECT_EQ(d.max_items, 4);
  d = DecideBatch(policy, 12, clock.Now(), clock.Now());
  EXPECT_TRUE(d.cut);
  EXPECT_EQ(d.max_items, 8);
}

TEST(BatchPolicyTest, ZeroDelayCutsImmediately) {
  BatchPolicy policy{.max_batch_size = 8, .max_queue_delay = microseconds(0)};
  FakeClock clock;
  BatchDecision d = DecideBatch(policy, 1, clock.Now(), clock.Now());
  EXPECT_TRUE(d.cut);
}

}  // namespace
}  // namespace switchyard
