#include "scheduler/request_queue.h"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

using std::chrono::milliseconds;

QueuedRequest Entry(const std::string& id, TimePoint now, int level = 0, int64_t items = 1,
                    TimePoint deadline = TimePoint::max()) {
  QueuedRequest e;
  e.request = std::make_unique<InferRequest>();
  e.request->id = id;
  e.done = [](StatusOr<InferResponse>) {};
  e.enqueue_time = now;
  e.deadline = deadline;
  e.items = items;
  e.level = level;
  return e;
}

std::vector<std::string> Ids(const std::vector<QueuedRequest>& entries) {
  std::vector<std::string> ids;
  for (const auto& e : entries) ids.push_back(e.request->id);
  return ids;
}

TEST(RequestQueueTest, RefusesWhenFullAndLeavesEntryToCaller) {
  FakeClock clock;
  RequestQueue queue(2, 1);
  ASSERT_TRUE(queue.Push(Entry("a", clock.Now())).ok());
  ASSERT_TRUE(queue.Push(Entry("b", clock.Now())).ok());
  QueuedRequest c = Entry("c", clock.Now());
  Status s = queue.Push(std::move(c));
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  ASSERT_NE(c.request, nullptr);  // NOLINT(bugprone-use-after-move): refused entries stay intact
  EXPECT_EQ(c.request->id, "c");
  EXPECT_EQ(queue.size(), 2u);
}

TEST(RequestQueueTest, PriorityThenFifo) {
  FakeClock clock;
  RequestQueue queue(10, 2);
  ASSERT_TRUE(queue.Push(Entry("low1", clock.Now(), 1)).ok());
  ASSERT_TRUE(queue.Push(Entry("high1", clock.Now(), 0)).ok());
  ASSERT_TRUE(queue.Push(Entry("low2", clock.Now(), 1)).ok());
  ASSERT_TRUE(queue.Push(Entry("high2", clock.Now(), 0)).ok());
  EXPECT_EQ(queue.DepthByLevel(), (std::vector<std::size_t>{2, 2}));
  EXPECT_EQ(Ids(queue.TakeBatch(3)), (std::vector<std::string>{"high1", "high2", "low1"}));
  EXPECT_EQ(Ids(queue.TakeBatch(3)), (std::vector<std::string>{"low2"}));
  EXPECT_TRUE(queue.empty());
}

TEST(RequestQueueTest, BatchCountsItemsWithoutOvertaking) {
  FakeClock clock;
  RequestQueue queue(10, 1);
  ASSERT_TRUE(queue.Push(Entry("a", clock.Now(), 0, 3)).ok());
  ASSERT_TRUE(queue.Push(Entry("b", clock.Now(), 0, 4)).ok());
  ASSERT_TRUE(queue.Push(Entry("c", clock.Now(), 0, 1)).ok());
  EXPECT_EQ(queue.pending_items(), 8);
  // "b" does not fit in 5; "c" would, but may not overtake "b".
  EXPECT_EQ(Ids(queue.TakeBatch(5)), (std::vector<std::string>{"a"}));
  EXPECT_EQ(queue.pending_items(), 5);
  // A request larger than the limit is still taken alone rather than starving.
  EXPECT_EQ(Ids(queue.TakeBatch(2)), (std::vector<std::string>{"b"}));
}

TEST(RequestQueueTest, ExpiresByDeadlineOnly) {
  FakeClock clock;
  RequestQueue queue(10, 1);
  TimePoint now = clock.Now();
  ASSERT_TRUE(queue.Push(Entry("soon", now, 0, 1, now + milliseconds(10))).ok());
  ASSERT_TRUE(queue.Push(Entry("never", now)).ok());
  ASSERT_TRUE(queue.Push(Entry("later", now, 0, 1, now + milliseconds(50))).ok());
  EXPECT_EQ(queue.EarliestDeadline(), now + milliseconds(10));
  EXPECT_TRUE(queue.TakeExpired(now + milliseconds(9)).empty());
  EXPECT_EQ(Ids(queue.TakeExpired(now + milliseconds(10))), (std::vector<std::string>{"soon"}));
  EXPECT_EQ(queue.EarliestDeadline(), now + milliseconds(50));
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_EQ(Ids(queue.TakeBatch(10)), (std::vector<std::string>{"never", "later"}));
}

TEST(RequestQueueTest, TakesCancelled) {
  FakeClock clock;
  RequestQueue queue(10, 1);
  QueuedRequest a = Entry("a", clock.Now());
  a.request->cancel = std::make_shared<CancelToken>();
  auto token = a.request->cancel;
  ASSERT_TRUE(queue.Push(std::move(a)).ok());
  ASSERT_TRUE(queue.Push(Entry("b", clock.Now())).ok());
  EXPECT_TRUE(queue.TakeCancelled().empty());
  token->Cancel();
  EXPECT_EQ(Ids(queue.TakeCancelled()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(queue.size(), 1u);
}

}  // namespace
}  // namespace switchyard
