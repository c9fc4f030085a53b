#include "scheduler/running_deadlines.h"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

using std::chrono::seconds;

TEST(RunningDeadlinesTest, TakesWhatIsDueInDeadlineOrder) {
  RunningDeadlines deadlines;
  EXPECT_TRUE(deadlines.empty());
  EXPECT_EQ(deadlines.Earliest(), TimePoint::max());
  TimePoint t0;
  auto a = std::make_shared<CancelToken>();
  auto b = std::make_shared<CancelToken>();
  auto c = std::make_shared<CancelToken>();
  deadlines.Add(1, t0 + seconds(3), a);
  deadlines.Add(2, t0 + seconds(1), b);
  deadlines.Add(2, t0 + seconds(5), c);
  EXPECT_EQ(deadlines.Earliest(), t0 + seconds(1));
  EXPECT_TRUE(deadlines.TakeDue(t0).empty());
  EXPECT_EQ(deadlines.TakeDue(t0 + seconds(3)),
            (std::vector<std::shared_ptr<CancelToken>>{b, a}));  // at the deadline is due
  EXPECT_EQ(deadlines.Earliest(), t0 + seconds(5));
  deadlines.RemoveBatch(2);  // answered: c is not watched any more
  EXPECT_TRUE(deadlines.empty());
  EXPECT_TRUE(deadlines.TakeDue(t0 + seconds(10)).empty());
}

}  // namespace
}  // namespace switchyard
