#include "bench/server_stats.h"

#include <gtest/gtest.h>

#include "fmt/format.h"

namespace switchyard::bench {
namespace {

// A statistics document in the KServe v2 / Triton shape for model `name`.
std::string Entry(std::string_view name, std::string_view version, uint64_t requests,
                  uint64_t queue_ns, uint64_t infer_ns, uint64_t executions) {
  return fmt::format(
      R"({{"name":"{}","version":"{}","last_inference":1700000000000,"inference_count":{},)"
      R"("execution_count":{},"inference_stats":{{"success":{{"count":{},"ns":{}}},)"
      R"("fail":{{"count":0,"ns":0}},"queue":{{"count":{},"ns":{}}},)"
      R"("compute_input":{{"count":{},"ns":0}},"compute_infer":{{"count":{},"ns":{}}},)"
      R"("compute_output":{{"count":{},"ns":0}}}},"batch_stats":[]}})",
      name, version, requests, executions, requests, queue_ns + infer_ns, requests, queue_ns,
      requests, requests, infer_ns, requests);
}

std::string Document(const std::string& entries) { return R"({"model_stats":[)" + entries + "]}"; }

TEST(ParseModelStatsTest, ReadsOneModel) {
  auto stats = ParseModelStats(
      Document(Entry("other", "1", 5, 5, 5, 5) + "," + Entry("simple", "1", 100, 2000, 7000, 40)),
      "simple");
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->inference_count, 100u);
  EXPECT_EQ(stats->execution_count, 40u);
  EXPECT_EQ(stats->success.count, 100u);
  EXPECT_EQ(stats->queue.ns, 2000u);
  EXPECT_EQ(stats->compute_infer.count, 100u);
  EXPECT_EQ(stats->compute_infer.ns, 7000u);
}

TEST(ParseModelStatsTest, SumsVersions) {
  auto stats = ParseModelStats(
      Document(Entry("m", "1", 10, 100, 200, 5) + "," + Entry("m", "2", 30, 300, 400, 6)), "m");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->success.count, 40u);
  EXPECT_EQ(stats->queue.ns, 400u);
  EXPECT_EQ(stats->compute_infer.ns, 600u);
  EXPECT_EQ(stats->execution_count, 11u);
}

TEST(ParseModelStatsTest, RejectsWhatIsNotStatistics) {
  EXPECT_FALSE(ParseModelStats("{}", "m").ok());
  EXPECT_FALSE(ParseModelStats(R"({"error":"not found"})", "m").ok());
  EXPECT_FALSE(ParseModelStats(Document(Entry("other", "1", 1, 1, 1, 1)), "m").ok());
  EXPECT_FALSE(ParseModelStats(Document(R"({"name":"m","inference_count":1})"), "m").ok());
  EXPECT_FALSE(ParseModelStats("<html>404</html>", "m").ok());
}

TEST(StatsDeltaTest, PerRequestAverages) {
  auto before = ParseModelStats(Document(Entry("m", "1", 100, 1'000'000, 5'000'000, 50)), "m");
  auto after = ParseModelStats(Document(Entry("m", "1", 300, 3'000'000, 9'000'000, 90)), "m");
  ASSERT_TRUE(before.ok() && after.ok());
  ServerSplit split = StatsDelta(*before, *after);
  EXPECT_EQ(split.requests, 200u);
  EXPECT_EQ(split.items, 200u);
  EXPECT_EQ(split.executions, 40u);
  EXPECT_DOUBLE_EQ(split.queue_us, 10.0);          // 2 ms over 200 requests
  EXPECT_DOUBLE_EQ(split.compute_infer_us, 20.0);  // 4 ms over 200 requests
}

TEST(StatsDeltaTest, NoRequestsAndCountersGoingBackwards) {
  StatsSnapshot a;
  a.success = {10, 1000};
  a.queue = {10, 1000};
  a.compute_infer = {10, 1000};
  ServerSplit same = StatsDelta(a, a);
  EXPECT_EQ(same.requests, 0u);
  EXPECT_EQ(same.queue_us, 0);
  ServerSplit reloaded = StatsDelta(a, StatsSnapshot{});
  EXPECT_EQ(reloaded.requests, 0u);
  EXPECT_EQ(reloaded.compute_infer_us, 0);
}

}  // namespace
}  // namespace switchyard::bench
