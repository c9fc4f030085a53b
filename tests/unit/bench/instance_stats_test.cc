#include "bench/instance_stats.h"

#include <gtest/gtest.h>

namespace switchyard::bench {
namespace {

constexpr std::string_view kStatus = R"({"live":true,"ready":true,"devices":[],"models":[
  {"name":"other","instances":[{"name":"other/0","device":"cpu","batches":9,"items":9}]},
  {"name":"m","instances":[
    {"name":"m/0","device":"GPU0","state":"ready","batches":10,"items":40},
    {"name":"m/1","device":"GPU1","state":"ready","batches":5,"items":35}],"queue":{}}]})";

TEST(InstanceStatsTest, ParsesTheNamedModel) {
  auto instances = ParseInstanceCounters(kStatus, "m");
  ASSERT_TRUE(instances.ok()) << instances.status().ToString();
  ASSERT_EQ(instances->size(), 2u);
  EXPECT_EQ((*instances)[0].name, "m/0");
  EXPECT_EQ((*instances)[0].device, "GPU0");
  EXPECT_EQ((*instances)[0].batches, 10u);
  EXPECT_EQ((*instances)[1].items, 35u);
}

TEST(InstanceStatsTest, RejectsMissingModelOrFields) {
  EXPECT_FALSE(ParseInstanceCounters(kStatus, "absent").ok());
  EXPECT_FALSE(ParseInstanceCounters("{\"error\":\"not found\"}", "m").ok());
  EXPECT_FALSE(ParseInstanceCounters("not json", "m").ok());
  EXPECT_FALSE(ParseInstanceCounters(
                   R"({"models":[{"name":"m","instances":[{"name":"m/0","batches":1}]}]})", "m")
                   .ok());
}

TEST(InstanceStatsTest, DeltaMatchesByName) {
  std::vector<InstanceCounters> before = {{"m/1", "GPU1", 5, 35}, {"m/0", "GPU0", 10, 40}};
  std::vector<InstanceCounters> after = {
      {"m/0", "GPU0", 12, 50}, {"m/1", "GPU1", 5, 35}, {"m/2", "GPU2", 3, 7}};
  std::vector<InstanceCounters> delta = InstanceDelta(before, after);
  ASSERT_EQ(delta.size(), 3u);
  EXPECT_EQ(delta[0].name, "m/0");
  EXPECT_EQ(delta[0].batches, 2u);
  EXPECT_EQ(delta[0].items, 10u);
  EXPECT_EQ(delta[1].items, 0u);
  EXPECT_EQ(delta[2].batches, 3u);                       // new since `before`: counts from 0
  EXPECT_EQ(InstanceDelta(after, before)[1].items, 0u);  // went backwards: 0, not a wrap
}

}  // namespace
}  // namespace switchyard::bench
