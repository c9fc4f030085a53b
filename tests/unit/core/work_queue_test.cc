#include "core/work_queue.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace switchyard {
namespace {

TEST(WorkQueueTest, HandsOutJobsInOrder) {
  WorkQueue<int> queue;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(queue.Push(int{i}), std::nullopt);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(queue.Pop(), i);
}

TEST(WorkQueueTest, CloseLetsTheQueuedJobsOutThenEnds) {
  WorkQueue<std::string> queue;
  ASSERT_EQ(queue.Push("a"), std::nullopt);
  queue.Close();
  EXPECT_EQ(queue.Push("b"), "b");  // refused: handed back to its caller
  EXPECT_EQ(queue.Pop(), "a");
  EXPECT_EQ(queue.Pop(), std::nullopt);
}

TEST(WorkQueueTest, CloseAndTakeTakesWhatNoPopWillSee) {
  WorkQueue<std::unique_ptr<int>> queue;
  ASSERT_EQ(queue.Push(std::make_unique<int>(1)), std::nullopt);
  ASSERT_EQ(queue.Push(std::make_unique<int>(2)), std::nullopt);
  auto taken = queue.CloseAndTake();
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(*taken[0], 1);
  EXPECT_EQ(*taken[1], 2);
  EXPECT_EQ(queue.Pop(), std::nullopt);
  auto refused = queue.Push(std::make_unique<int>(3));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(**refused, 3);
}

TEST(WorkQueueTest, ABlockedConsumerWakesForJobsAndForClose) {
  WorkQueue<int> queue;
  std::vector<int> seen;
  std::thread consumer([&] {
    while (auto job = queue.Pop()) seen.push_back(*job);
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&queue, p] {
      for (int i = 0; i < 1000; ++i) ASSERT_EQ(queue.Push(p * 1000 + i), std::nullopt);
    });
  }
  for (auto& producer : producers) producer.join();
  queue.Close();
  consumer.join();  // returns only if Close woke it once the queue ran dry
  ASSERT_EQ(seen.size(), 4000u);
  // Each producer's jobs come out in the order it pushed them.
  std::vector<int> last(4, -1);
  for (int job : seen) {
    EXPECT_GT(job % 1000, last[job / 1000]);
    last[job / 1000] = job % 1000;
  }
}

}  // namespace
}  // namespace switchyard
