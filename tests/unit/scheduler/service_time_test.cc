#include "scheduler/service_time.h"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

using std::chrono::microseconds;

TEST(ServiceTimeTest, EmptyEstimatesZero) {
  ServiceTimeEstimate e;
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(e.Estimate(8), Duration(0));
  EXPECT_EQ(e.Average(), Duration(0));
}

TEST(ServiceTimeTest, EwmaPerSize) {
  ServiceTimeEstimate e(0.5);
  e.Record(4, microseconds(100));
  EXPECT_EQ(e.Estimate(4), microseconds(100));
  e.Record(4, microseconds(200));
  EXPECT_EQ(e.Estimate(4), microseconds(150));
  e.Record(4, microseconds(150));
  EXPECT_EQ(e.Estimate(4), microseconds(150));
}

TEST(ServiceTimeTest, SingleSizeAnswersForAll) {
  ServiceTimeEstimate e;
  e.Record(1, microseconds(300));
  EXPECT_EQ(e.Estimate(32), microseconds(300));
}

TEST(ServiceTimeTest, InterpolatesAndExtrapolatesLinearly) {
  ServiceTimeEstimate e;
  e.Record(1, microseconds(10500));  // 10 ms + 0.5 ms · n
  e.Record(9, microseconds(14500));
  EXPECT_EQ(e.Estimate(5), microseconds(12500));
  EXPECT_EQ(e.Estimate(32), microseconds(26000));
  e.Record(17, microseconds(18500));
  EXPECT_EQ(e.Estimate(13), microseconds(16500));
  EXPECT_EQ(e.Estimate(0), microseconds(10000));
}

TEST(ServiceTimeTest, AverageWeightsBySamples) {
  ServiceTimeEstimate e(1.0);
  e.Record(1, microseconds(100));
  e.Record(1, microseconds(100));
  e.Record(2, microseconds(400));
  EXPECT_EQ(e.Average(), microseconds(200));
}

}  // namespace
}  // namespace switchyard
