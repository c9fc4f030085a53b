// ShareOfCores and the thread caps: N instances of a model split the cores instead of each taking
// all of them.
#include "server/cpu_share.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace switchyard {
namespace {

using ::testing::ElementsAre;

TEST(CpuShareTest, InstancesTakeDisjointRunsOfCores) {
  const std::vector<int> cores = {0, 1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(ShareOfCores(cores, 1, 0).threads, 8);
  CpuShare first = ShareOfCores(cores, 3, 0);
  CpuShare second = ShareOfCores(cores, 3, 1);
  CpuShare third = ShareOfCores(cores, 3, 2);
  EXPECT_EQ(first.threads, 2);
  EXPECT_THAT(first.cpus, ElementsAre(0, 1));
  EXPECT_THAT(second.cpus, ElementsAre(2, 3));
  EXPECT_THAT(third.cpus, ElementsAre(4, 5));
}

TEST(CpuShareTest, FollowsTheCoresTheServerMayUseAndWrapsWhenInstancesOutnumberThem) {
  const std::vector<int> cores = {2, 5};  // e.g. taskset -c 2,5
  CpuShare a = ShareOfCores(cores, 4, 0);
  CpuShare d = ShareOfCores(cores, 4, 3);
  EXPECT_EQ(a.threads, 1);
  EXPECT_THAT(a.cpus, ElementsAre(2));
  EXPECT_THAT(d.cpus, ElementsAre(5));
  EXPECT_EQ(CpuList({0, 1, 5}), "0,1,5");
}

TEST(CpuShareTest, ThreadCapsLeaveWhatTheModelOrTheServerSetsAlone) {
  unsetenv("MKL_NUM_THREADS");
  ASSERT_EQ(setenv("OPENBLAS_NUM_THREADS", "7", 1), 0);
  std::vector<std::string> caps = ThreadCapEnvironment(3, {{"OMP_NUM_THREADS", "16"}});
  unsetenv("OPENBLAS_NUM_THREADS");
  EXPECT_THAT(caps, ::testing::Contains("MKL_NUM_THREADS=3"));
  for (const std::string& cap : caps) {
    EXPECT_FALSE(cap.starts_with("OMP_NUM_THREADS=")) << cap;
    EXPECT_FALSE(cap.starts_with("OPENBLAS_NUM_THREADS=")) << cap;
  }
}

TEST(CpuShareTest, AllowedCpusIsTheAffinityMask) {
  std::vector<int> cpus = AllowedCpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_TRUE(std::is_sorted(cpus.begin(), cpus.end()));
}

}  // namespace
}  // namespace switchyard
