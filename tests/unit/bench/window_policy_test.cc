#include "bench/window_policy.h"

#include <gtest/gtest.h>

namespace switchyard::bench {
namespace {

using Decision = StabilityTracker::Decision;

TEST(WindowsAgreeTest, RelativeToTheLarger) {
  EXPECT_TRUE(WindowsAgree(100, 100, 0.1));
  EXPECT_TRUE(WindowsAgree(100, 90, 0.1));
  EXPECT_TRUE(WindowsAgree(90, 100, 0.1));
  EXPECT_FALSE(WindowsAgree(100, 89, 0.1));
  EXPECT_FALSE(WindowsAgree(89, 100, 0.1));
  EXPECT_TRUE(WindowsAgree(0, 0, 0.1));
  EXPECT_FALSE(WindowsAgree(0, 1, 0.1));
}

TEST(StabilityTrackerTest, StableWhenTwoConsecutiveWindowsAgree) {
  StabilityTracker tracker(0.10, 6);
  EXPECT_EQ(tracker.AddWindow(500), Decision::kContinue);   // ramping up
  EXPECT_EQ(tracker.AddWindow(1000), Decision::kContinue);  // 50 % apart
  EXPECT_EQ(tracker.AddWindow(1050), Decision::kStable);
  EXPECT_EQ(tracker.throughputs(), (std::vector<double>{500, 1000, 1050}));
}

TEST(StabilityTrackerTest, OnlyConsecutiveWindowsCount) {
  StabilityTracker tracker(0.10, 6);
  EXPECT_EQ(tracker.AddWindow(1000), Decision::kContinue);
  EXPECT_EQ(tracker.AddWindow(2000), Decision::kContinue);
  EXPECT_EQ(tracker.AddWindow(1000), Decision::kContinue);  // agrees with window 1, not 2
  EXPECT_EQ(tracker.AddWindow(1099), Decision::kStable);
}

TEST(StabilityTrackerTest, UnstableAfterMaxWindows) {
  StabilityTracker tracker(0.10, 4);
  EXPECT_EQ(tracker.AddWindow(100), Decision::kContinue);
  EXPECT_EQ(tracker.AddWindow(200), Decision::kContinue);
  EXPECT_EQ(tracker.AddWindow(100), Decision::kContinue);
  EXPECT_EQ(tracker.AddWindow(200), Decision::kUnstable);
}

TEST(StabilityTrackerTest, AgreementOnTheLastAllowedWindowIsStable) {
  StabilityTracker tracker(0.10, 2);
  EXPECT_EQ(tracker.AddWindow(100), Decision::kContinue);
  EXPECT_EQ(tracker.AddWindow(101), Decision::kStable);
}

TEST(StabilityTrackerTest, SingleWindowIsUnstable) {
  StabilityTracker tracker(0.10, 1);
  EXPECT_EQ(tracker.AddWindow(100), Decision::kUnstable);
}

}  // namespace
}  // namespace switchyard::bench
