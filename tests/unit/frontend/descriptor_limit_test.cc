// FitConnectionsToDescriptorLimit under a low RLIMIT_NOFILE (this test process lowers its own,
// which is why the test has a file, and so a process, of its own).
#include "frontend/http/descriptor_limit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

namespace switchyard::http {
namespace {

using ::testing::HasSubstr;

TEST(DescriptorLimitTest, FitsTheDefaultAndRefusesWhatTheUserChoseBeyondTheLimit) {
  rlimit low{.rlim_cur = 300, .rlim_max = 400};
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);

  // The soft limit is raised to the hard one first: 400 - 256 kept = 144 fit.
  auto fits = FitConnectionsToDescriptorLimit(100, /*chosen_by_user=*/true);
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  EXPECT_EQ(*fits, 100);
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, 400u);

  auto lowered = FitConnectionsToDescriptorLimit(1024, /*chosen_by_user=*/false);
  ASSERT_TRUE(lowered.ok());
  EXPECT_EQ(*lowered, 400 - kReservedDescriptors);

  auto refused = FitConnectionsToDescriptorLimit(1024, /*chosen_by_user=*/true);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("ulimit -n"));
  EXPECT_THAT(refused.status().message(), HasSubstr("at most 144"));

  rlimit tiny{.rlim_cur = 200, .rlim_max = 200};  // below what workers and files keep
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tiny), 0);
  for (bool chosen : {false, true}) {
    auto none = FitConnectionsToDescriptorLimit(1, chosen);
    ASSERT_FALSE(none.ok());
    EXPECT_THAT(none.status().message(), HasSubstr("leaves none for connections"));
    EXPECT_THAT(none.status().message(), HasSubstr("at least 257"));
  }
}

}  // namespace
}  // namespace switchyard::http
