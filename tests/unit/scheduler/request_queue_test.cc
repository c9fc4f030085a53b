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

TEST(RequestQueueTest, UnbindLetsAnyInstanceTakeWhatWasBound) {
  FakeClock clock;
  RequestQueue queue(10, 1);
  for (int i = 0; i < 3; ++i) {
    QueuedRequest e = Entry("r" + std::to_string(i), clock.Now());
    e.instance = i % 2;  // r0 and r2 to instance 0, r1 to instance 1
    ASSERT_TRUE(queue.Push(std::move(e)).ok());
  }
  EXPECT_EQ(queue.PendingItemsFor(1), 1);
  queue.Unbind(0);
  EXPECT_EQ(queue.PendingItemsFor(1), 3);
  EXPECT_EQ(queue.PendingItemsFor(0), 2);  // r1 stays bound to instance 1
  EXPECT_EQ(Ids(queue.TakeBatch(10, 1)), (std::vector<std::string>{"r0", "r1", "r2"}));
}

QueuedRequest Solo(const std::string& id, TimePoint now, int level = 0, int64_t items = 1) {
  QueuedRequest e = Entry(id, now, level, items);
  e.solo = true;
  e.attempts = 1;
  return e;
}

TEST(RequestQueueTest, PushFrontIgnoresMaxSizeAndGoesFirstInItsLevel) {
  FakeClock clock;
  RequestQueue queue(2, 2);
  ASSERT_TRUE(queue.Push(Entry("high", clock.Now(), 0)).ok());
  ASSERT_TRUE(queue.Push(Entry("low", clock.Now(), 1, 2)).ok());
  ASSERT_EQ(queue.Push(Entry("refused", clock.Now(), 1)).code(), StatusCode::kResourceExhausted);
  // A retry was admitted before: it goes back in although the queue is full.
  queue.PushFront(Entry("retry", clock.Now(), 1, 3));
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.pending_items(), 6);
  EXPECT_EQ(queue.DepthByLevel(), (std::vector<std::size_t>{1, 2}));
  // First of its level, behind the higher level.
  EXPECT_EQ(Ids(queue.TakeBatch(100)), (std::vector<std::string>{"high", "retry", "low"}));
  EXPECT_EQ(queue.pending_items(), 0);
  // Still full-bounded for ordinary pushes afterwards.
  ASSERT_TRUE(queue.Push(Entry("x", clock.Now())).ok());
  ASSERT_TRUE(queue.Push(Entry("y", clock.Now())).ok());
  queue.PushFront(Entry("z", clock.Now()));
  EXPECT_EQ(queue.Push(Entry("w", clock.Now())).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Ids(queue.TakeBatch(100)), (std::vector<std::string>{"z", "x", "y"}));
}

TEST(RequestQueueTest, PushFrontClampsTheLevel) {
  FakeClock clock;
  RequestQueue queue(4, 2);
  ASSERT_TRUE(queue.Push(Entry("low", clock.Now(), 1)).ok());
  queue.PushFront(Entry("beyond", clock.Now(), 7));  // clamped to the lowest level
  EXPECT_EQ(queue.DepthByLevel(), (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(Ids(queue.TakeBatch(100)), (std::vector<std::string>{"beyond", "low"}));
}

TEST(RequestQueueTest, SoloEntryEndsTheBatchBeforeIt) {
  FakeClock clock;
  RequestQueue queue(10, 1);
  ASSERT_TRUE(queue.Push(Entry("a", clock.Now())).ok());
  ASSERT_TRUE(queue.Push(Entry("b", clock.Now())).ok());
  ASSERT_TRUE(queue.Push(Solo("s", clock.Now())).ok());
  ASSERT_TRUE(queue.Push(Entry("c", clock.Now())).ok());
  EXPECT_EQ(Ids(queue.TakeBatch(10)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Ids(queue.TakeBatch(10)), (std::vector<std::string>{"s"}));
  EXPECT_EQ(Ids(queue.TakeBatch(10)), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.pending_items(), 0);
}

TEST(RequestQueueTest, SoloEntryAtTheHeadIsTheWholeBatch) {
  FakeClock clock;
  RequestQueue queue(10, 2);
  ASSERT_TRUE(queue.Push(Entry("a", clock.Now())).ok());
  ASSERT_TRUE(queue.Push(Entry("low", clock.Now(), 1)).ok());
  queue.PushFront(Solo("s2", clock.Now()));
  queue.PushFront(Solo("s1", clock.Now(), 0, 3));
  EXPECT_EQ(queue.pending_items(), 6);
  // Each solo alone, even when another solo or a small request would fit.
  EXPECT_EQ(Ids(queue.TakeBatch(10)), (std::vector<std::string>{"s1"}));
  EXPECT_EQ(queue.pending_items(), 3);
  EXPECT_EQ(Ids(queue.TakeBatch(10)), (std::vector<std::string>{"s2"}));
  EXPECT_EQ(Ids(queue.TakeBatch(10)), (std::vector<std::string>{"a", "low"}));
  // A solo larger than max_items still goes (alone), rather than starving.
  queue.PushFront(Solo("big", clock.Now(), 0, 8));
  EXPECT_EQ(Ids(queue.TakeBatch(2)), (std::vector<std::string>{"big"}));
}

TEST(RequestQueueTest, SoloEntryOfALowerLevelEndsTheBatch) {
  FakeClock clock;
  RequestQueue queue(10, 2);
  ASSERT_TRUE(queue.Push(Entry("high", clock.Now(), 0)).ok());
  queue.PushFront(Solo("retry", clock.Now(), 1));
  ASSERT_TRUE(queue.Push(Entry("low", clock.Now(), 1)).ok());
  EXPECT_EQ(Ids(queue.TakeBatch(10)), (std::vector<std::string>{"high"}));
  EXPECT_EQ(Ids(queue.TakeBatch(10)), (std::vector<std::string>{"retry"}));
  EXPECT_EQ(Ids(queue.TakeBatch(10)), (std::vector<std::string>{"low"}));
}

TEST(RequestQueueTest, SoloEntryBoundToAnotherInstanceDoesNotStopTheBatch) {
  FakeClock clock;
  RequestQueue queue(10, 1);
  ASSERT_TRUE(queue.Push(Entry("a", clock.Now())).ok());
  QueuedRequest bound = Solo("bound", clock.Now());
  bound.instance = 1;
  ASSERT_TRUE(queue.Push(std::move(bound)).ok());
  ASSERT_TRUE(queue.Push(Entry("b", clock.Now())).ok());
  // Instance 0 cannot take "bound", so it neither takes it nor stops at it.
  EXPECT_EQ(Ids(queue.TakeBatch(10, 0)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Ids(queue.TakeBatch(10, 1)), (std::vector<std::string>{"bound"}));
}

}  // namespace
}  // namespace switchyard
