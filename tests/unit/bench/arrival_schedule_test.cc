#include "bench/arrival_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace switchyard::bench {
namespace {

using std::chrono::milliseconds;

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

std::vector<Duration> Take(ArrivalSchedule& schedule, int n) {
  std::vector<Duration> offsets;
  for (int i = 0; i < n; ++i) {
    std::optional<Duration> next = schedule.Next();
    if (!next) break;
    offsets.push_back(*next);
  }
  return offsets;
}

TEST(PoissonScheduleTest, SameSeedSameOffsetsOtherSeedOthers) {
  PoissonSchedule a(1000, 7);
  PoissonSchedule b(1000, 7);
  PoissonSchedule c(1000, 8);
  std::vector<Duration> first = Take(a, 100);
  EXPECT_EQ(first, Take(b, 100));
  EXPECT_NE(first, Take(c, 100));
}

// A statistical check with a fixed seed, so deterministic: over 200,000 arrivals at 2,500/s the
// mean rate is within 1 % (its standard error is ~0.22 %), gaps are never negative, the
// coefficient of variation of the gaps is ~1 (exponential; constant spacing would give 0) and
// about e^-1 of the gaps exceed the mean gap.
TEST(PoissonScheduleTest, MeanRateAndExponentialGaps) {
  constexpr int kN = 200000;
  constexpr double kRate = 2500;
  PoissonSchedule schedule(kRate, 42);
  double previous = 0;
  double sum = 0;
  double sum_squares = 0;
  int above_mean = 0;
  for (int i = 0; i < kN; ++i) {
    double offset = Seconds(*schedule.Next());
    double gap = offset - previous;
    ASSERT_GE(gap, 0);
    sum += gap;
    sum_squares += gap * gap;
    if (gap > 1 / kRate) ++above_mean;
    previous = offset;
  }
  double rate = kN / previous;
  EXPECT_NEAR(rate, kRate, kRate * 0.01);
  double mean = sum / kN;
  double cv = std::sqrt(sum_squares / kN - mean * mean) / mean;
  EXPECT_NEAR(cv, 1.0, 0.02);
  EXPECT_NEAR(static_cast<double>(above_mean) / kN, std::exp(-1.0), 0.01);
}

TEST(ConstantScheduleTest, FixedSpacing) {
  ConstantSchedule schedule(0.5, 0.25);
  EXPECT_EQ(Take(schedule, 3),
            (std::vector<Duration>{milliseconds(500), milliseconds(750), milliseconds(1000)}));
}

TEST(SplitScheduleTest, ConstantThreadsInterleaveToTheFullRate) {
  ArrivalSpec spec{ArrivalKind::kConstant, 100, 1, {}};
  auto t0 = SplitSchedule(spec, 0, 2);
  auto t1 = SplitSchedule(spec, 1, 2);
  EXPECT_EQ(Take(*t0, 3),
            (std::vector<Duration>{milliseconds(0), milliseconds(20), milliseconds(40)}));
  EXPECT_EQ(Take(*t1, 3),
            (std::vector<Duration>{milliseconds(10), milliseconds(30), milliseconds(50)}));
}

TEST(SplitScheduleTest, PoissonThreadsDifferAndShareTheRate) {
  ArrivalSpec spec{ArrivalKind::kPoisson, 4000, 3, {}};
  auto t0 = SplitSchedule(spec, 0, 2);
  auto t1 = SplitSchedule(spec, 1, 2);
  auto again = SplitSchedule(spec, 0, 2);
  std::vector<Duration> first = Take(*t0, 50000);
  EXPECT_NE(first, Take(*t1, 50000));
  EXPECT_EQ(first, Take(*again, 50000));
  EXPECT_NEAR(50000 / Seconds(first.back()), 2000, 2000 * 0.02);
}

TEST(SplitScheduleTest, ListIsDealtOutAndEnds) {
  ArrivalSpec spec{ArrivalKind::kList, 0, 0, {milliseconds(1), milliseconds(2), milliseconds(3)}};
  auto t0 = SplitSchedule(spec, 0, 2);
  auto t1 = SplitSchedule(spec, 1, 2);
  EXPECT_EQ(Take(*t0, 10), (std::vector<Duration>{milliseconds(1), milliseconds(3)}));
  EXPECT_EQ(Take(*t1, 10), (std::vector<Duration>{milliseconds(2)}));
  EXPECT_FALSE(t1->Next().has_value());
}

TEST(ParseScheduleTest, OffsetsCommentsAndBlankLines) {
  auto offsets = ParseSchedule("# burst\n0\n\n 0.5 \n0.5\r\n\t1.25\n3");
  ASSERT_TRUE(offsets.ok()) << offsets.status().ToString();
  EXPECT_EQ(*offsets, (std::vector<Duration>{milliseconds(0), milliseconds(500), milliseconds(500),
                                             milliseconds(1250), milliseconds(3000)}));
}

TEST(ParseScheduleTest, RejectsBadFiles) {
  for (std::string_view bad : {"", "\n# only a comment\n", "0\nx\n", "0.1s\n", "-1\n", "1\n0.5\n",
                               "nan\n", "inf\n", "1e9\n", "0,5\n", "1 2\n", "+1\n"}) {
    auto offsets = ParseSchedule(bad);
    EXPECT_FALSE(offsets.ok()) << "'" << bad << "'";
    if (!offsets.ok()) {
      EXPECT_EQ(offsets.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(ParseScheduleTest, ErrorNamesTheLine) {
  auto offsets = ParseSchedule("0\n1\n# x\n0.5\n");
  ASSERT_FALSE(offsets.ok());
  EXPECT_NE(offsets.status().message().find("line 4"), std::string::npos)
      << offsets.status().message();
}

}  // namespace
}  // namespace switchyard::bench
