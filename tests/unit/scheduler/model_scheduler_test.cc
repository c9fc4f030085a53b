#include "scheduler/model_scheduler.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "testing/fake_instance.h"

namespace switchyard {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using testing::FakeInstance;

class ModelSchedulerTest : public ::testing::Test {
 protected:
  void Start(SchedulerOptions options, int instance_count = 1) {
    std::vector<std::unique_ptr<Instance>> instances;
    for (int i = 0; i < instance_count; ++i) {
      auto instance = std::make_unique<FakeInstance>();
      stats_.AddInstance("fake/" + std::to_string(i), "cpu");
      fakes_.push_back(instance.get());
      instances.push_back(std::move(instance));
    }
    instance_ = fakes_[0];
    scheduler_ = std::make_unique<ModelScheduler>(options, std::move(instances), &clock_, &stats_);
  }

  // Submits a request; its result arrives in the returned future.
  std::future<StatusOr<InferResponse>> Submit(const std::string& id, Status* submit_status,
                                              TimePoint deadline = TimePoint::max(),
                                              std::shared_ptr<CancelToken> cancel = nullptr,
                                              TimePoint client_deadline = TimePoint::max()) {
    auto promise = std::make_shared<std::promise<StatusOr<InferResponse>>>();
    QueuedRequest entry;
    entry.request = std::make_unique<InferRequest>();
    entry.request->id = id;
    entry.request->model_name = "m";
    entry.request->cancel = std::move(cancel);
    entry.done = [promise](StatusOr<InferResponse> r) { promise->set_value(std::move(r)); };
    entry.enqueue_time = clock_.Now();
    entry.deadline = deadline;
    entry.client_deadline = client_deadline;
    *submit_status = scheduler_->Submit(std::move(entry));
    return promise->get_future();
  }

  static SchedulerOptions Options(int64_t max_batch, int queue_size, int inflight) {
    SchedulerOptions o;
    o.queue_max_size = queue_size;
    o.max_inflight_batches = inflight;
    o.batch_policy.max_batch_size = max_batch;
    o.batch_policy.max_queue_delay = seconds(1);  // fake time: only a full batch cuts early
    return o;
  }

  FakeClock clock_;
  metrics::Registry registry_;
  ModelStats stats_{"m", "1", &registry_};
  FakeInstance* instance_ = nullptr;  // the first of fakes_
  std::vector<FakeInstance*> fakes_;
  std::unique_ptr<ModelScheduler> scheduler_;
};

TEST_F(ModelSchedulerTest, FullBatchIsCutAndAnswered) {
  Start(Options(4, 16, 1));
  Status s;
  std::vector<std::future<StatusOr<InferResponse>>> results;
  for (int i = 0; i < 4; ++i) {
    results.push_back(Submit("r" + std::to_string(i), &s));
    ASSERT_TRUE(s.ok());
  }
  EXPECT_EQ(instance_->WaitForBatches(1), (std::vector<std::size_t>{4}));
  instance_->Complete(0);
  for (int i = 0; i < 4; ++i) {
    auto r = results[i].get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->id, "r" + std::to_string(i));
    EXPECT_EQ(r->outputs.size(), 2u);
  }
  ModelStatistics stats = stats_.Read();
  EXPECT_EQ(stats.inference_stats.success.count, 4u);
  EXPECT_EQ(stats.execution_count, 1u);
  ASSERT_EQ(stats.batch_stats.size(), 1u);
  EXPECT_EQ(stats.batch_stats[0].batch_size, 4u);
}

TEST_F(ModelSchedulerTest, PartialBatchWaitsForDelay) {
  Start(Options(4, 16, 1));
  Status s;
  auto r = Submit("a", &s);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(r.wait_for(milliseconds(50)), std::future_status::timeout);
  EXPECT_EQ(scheduler_->queue_size(), 1u);
  clock_.Advance(seconds(1));
  scheduler_->Poke();
  EXPECT_EQ(instance_->WaitForBatches(1), (std::vector<std::size_t>{1}));
  instance_->Complete(0);
  EXPECT_TRUE(r.get().ok());
}

TEST_F(ModelSchedulerTest, FullQueueRefusesAtOnce) {
  Start(Options(0, 2, 1));
  Status s;
  auto first = Submit("busy", &s);  // taken by the only slot
  instance_->WaitForBatches(1);
  auto q1 = Submit("q1", &s);
  auto q2 = Submit("q2", &s);
  ASSERT_TRUE(s.ok());
  auto refused = Submit("q3", &s);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(scheduler_->queue_size(), 2u);
  // Shut down while the first batch still executes: the queued ones are answered at once.
  std::thread stopper([&] { scheduler_->Shutdown(); });
  EXPECT_EQ(q1.get().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(q2.get().status().code(), StatusCode::kUnavailable);
  instance_->Complete(0);
  stopper.join();
  EXPECT_TRUE(first.get().ok());
}

TEST_F(ModelSchedulerTest, DeadlineExpiresWhileQueued) {
  Start(Options(0, 8, 1));
  Status s;
  auto busy = Submit("busy", &s);
  instance_->WaitForBatches(1);
  auto waiting = Submit("late", &s, clock_.Now() + milliseconds(10));
  ASSERT_TRUE(s.ok());
  clock_.Advance(milliseconds(10));
  scheduler_->Poke();
  auto r = waiting.get();
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  instance_->Complete(0);
  EXPECT_TRUE(busy.get().ok());
  EXPECT_EQ(stats_.Read().inference_stats.fail.count, 1u);
}

TEST_F(ModelSchedulerTest, CancelDropsQueuedRequest) {
  Start(Options(0, 8, 1));
  Status s;
  auto busy = Submit("busy", &s);
  instance_->WaitForBatches(1);
  auto token = std::make_shared<CancelToken>();
  auto cancelled = Submit("gone", &s, TimePoint::max(), token);
  ASSERT_TRUE(s.ok());
  token->Cancel();
  EXPECT_EQ(cancelled.get().status().code(), StatusCode::kCancelled);
  EXPECT_EQ(scheduler_->queue_size(), 0u);
  instance_->Complete(0);
  EXPECT_TRUE(busy.get().ok());
}

TEST_F(ModelSchedulerTest, TokenCancelledBeforeSubmitIsDropped) {
  Start(Options(0, 8, 1));
  Status s;
  auto busy = Submit("busy", &s);
  instance_->WaitForBatches(1);
  auto token = std::make_shared<CancelToken>();
  token->Cancel();
  auto cancelled = Submit("gone-already", &s, TimePoint::max(), token);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(cancelled.get().status().code(), StatusCode::kCancelled);
  instance_->Complete(0);
  EXPECT_TRUE(busy.get().ok());
}

// Waits (bounded, real time) until `predicate` holds.
template <typename Predicate>
bool Eventually(Predicate predicate) {
  for (int i = 0; i < 1000 && !predicate(); ++i) std::this_thread::sleep_for(milliseconds(5));
  return predicate();
}

TEST_F(ModelSchedulerTest, ClientDeadlinePassingWhileExecutingExpiresTheToken) {
  Start(Options(0, 8, 2));
  Status s;
  TimePoint start = clock_.Now();
  // One with a client deadline (the scheduler gives it a token), one without.
  auto timed = Submit("timed", &s, start + seconds(1), nullptr, start + seconds(1));
  ASSERT_TRUE(s.ok());
  auto untimed = Submit("untimed", &s);
  ASSERT_EQ(instance_->WaitForBatches(2).size(), 2u);
  InferRequest* timed_request = instance_->Requests(0)[0];
  ASSERT_NE(timed_request->cancel, nullptr);
  clock_.Advance(milliseconds(999));
  scheduler_->Poke();
  EXPECT_FALSE(timed_request->cancel->expired());
  clock_.Advance(milliseconds(1));
  scheduler_->Poke();
  EXPECT_TRUE(Eventually([&] { return timed_request->cancel->expired(); }));
  EXPECT_FALSE(timed_request->cancel->cancelled());
  EXPECT_EQ(instance_->Requests(1)[0]->cancel, nullptr);
  // The instance gave the request up: 504 naming why; the other completes as usual.
  instance_->Fail(0, Unavailable("stopped early"));
  auto r = timed.get();
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(r.status().message(), "the request's timeout passed while it executed: stopped early");
  instance_->Complete(1);
  EXPECT_TRUE(untimed.get().ok());
}

TEST_F(ModelSchedulerTest, ARequestFinishedPastItsClientDeadlineIsStillAnswered) {
  Start(Options(0, 8, 1));
  Status s;
  TimePoint start = clock_.Now();
  auto timed = Submit("timed", &s, start + seconds(1), nullptr, start + seconds(1));
  instance_->WaitForBatches(1);
  clock_.Advance(seconds(2));
  scheduler_->Poke();
  InferRequest* request = instance_->Requests(0)[0];
  EXPECT_TRUE(Eventually([&] { return request->cancel->expired(); }));
  instance_->Complete(0);
  EXPECT_TRUE(timed.get().ok());  // computed anyway: the answer is sent
}

TEST_F(ModelSchedulerTest, ShutdownAnswersQueuedUnavailable) {
  Start(Options(0, 8, 1));
  Status s;
  auto busy = Submit("busy", &s);
  instance_->WaitForBatches(1);
  auto queued = Submit("queued", &s);
  std::thread stopper([&] { scheduler_->Shutdown(); });
  EXPECT_EQ(queued.get().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(busy.wait_for(milliseconds(0)), std::future_status::timeout);  // still executing
  instance_->Complete(0);
  stopper.join();
  EXPECT_TRUE(busy.get().ok());
  Submit("after", &s);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

TEST_F(ModelSchedulerTest, RoundRobinBindsAtArrivalWhateverTheLoad) {
  SchedulerOptions options = Options(0, 16, 1);
  options.routing = RoutingPolicy::kRoundRobin;
  Start(options, 2);
  Status s;
  std::vector<std::future<StatusOr<InferResponse>>> results;
  for (int i = 0; i < 4; ++i) results.push_back(Submit("r" + std::to_string(i), &s));
  fakes_[0]->WaitForBatches(1);
  fakes_[1]->WaitForBatches(1);
  EXPECT_EQ(fakes_[0]->BatchIdsText(0), "r0");
  EXPECT_EQ(fakes_[1]->BatchIdsText(0), "r1");
  fakes_[1]->Complete(0);
  // Instance 1 is free, but r2 is bound to the busy instance 0: only r3 comes to instance 1.
  EXPECT_EQ(fakes_[1]->WaitForBatches(2).size(), 2u);
  EXPECT_EQ(fakes_[1]->BatchIdsText(1), "r3");
  EXPECT_EQ(scheduler_->queue_size(), 1u);
  fakes_[1]->Complete(1);
  fakes_[0]->Complete(0);
  fakes_[0]->WaitForBatches(2);
  EXPECT_EQ(fakes_[0]->BatchIdsText(1), "r2");
  fakes_[0]->Complete(1);
  for (auto& r : results) EXPECT_TRUE(r.get().ok());
}

TEST_F(ModelSchedulerTest, DrainedInstanceTakesNoWork) {
  SchedulerOptions options = Options(0, 16, 1);
  options.routing = RoutingPolicy::kRoundRobin;  // would bind every other request to instance 1
  Start(options, 2);
  scheduler_->SetDrained(1, "GPU1 failed: lost");
  Status s;
  std::vector<std::future<StatusOr<InferResponse>>> results;
  for (int i = 0; i < 3; ++i) results.push_back(Submit("r" + std::to_string(i), &s));
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(fakes_[0]->WaitForBatches(i + 1).size(), i + 1);
    EXPECT_EQ(fakes_[0]->BatchIdsText(i), "r" + std::to_string(i));
    fakes_[0]->Complete(i);
  }
  for (auto& r : results) EXPECT_TRUE(r.get().ok());
  EXPECT_EQ(fakes_[1]->batch_count(), 0u);
  EXPECT_TRUE(scheduler_->AnyInstanceAvailable());
  EXPECT_EQ(scheduler_->UnavailableReason(), "");
  SchedulerSnapshot snapshot = scheduler_->Snapshot();
  EXPECT_EQ(snapshot.instances[0].drained, "");
  EXPECT_EQ(snapshot.instances[1].drained, "GPU1 failed: lost");
}

TEST_F(ModelSchedulerTest, DrainingUnbindsWhatWaitsForTheInstance) {
  SchedulerOptions options = Options(0, 16, 1);
  options.routing = RoutingPolicy::kRoundRobin;
  Start(options, 2);
  Status s;
  std::vector<std::future<StatusOr<InferResponse>>> results;
  for (int i = 0; i < 4; ++i) results.push_back(Submit("r" + std::to_string(i), &s));
  fakes_[0]->WaitForBatches(1);
  fakes_[1]->WaitForBatches(1);
  // r2 waits for instance 0, r3 for instance 1; instance 1's GPU fails while it runs r1.
  scheduler_->SetDrained(1, "GPU1 failed: lost");
  fakes_[1]->Complete(0);  // its batch in flight still finishes
  fakes_[0]->Complete(0);
  ASSERT_EQ(fakes_[0]->WaitForBatches(2).size(), 2u);
  EXPECT_EQ(fakes_[0]->BatchIdsText(1), "r2");
  fakes_[0]->Complete(1);
  ASSERT_EQ(fakes_[0]->WaitForBatches(3).size(), 3u);  // r3 came over from instance 1
  EXPECT_EQ(fakes_[0]->BatchIdsText(2), "r3");
  fakes_[0]->Complete(2);
  for (auto& r : results) EXPECT_TRUE(r.get().ok());
  EXPECT_EQ(fakes_[1]->batch_count(), 1u);
}

TEST_F(ModelSchedulerTest, WithEveryInstanceDrainedWorkWaitsAndTheReasonSaysWhy) {
  Start(Options(0, 16, 1), 2);
  scheduler_->SetDrained(0, "GPU0 failed: lost");
  scheduler_->SetDrained(1, "GPU0 failed: lost");
  EXPECT_FALSE(scheduler_->AnyInstanceAvailable());
  EXPECT_EQ(scheduler_->UnavailableReason(),
            "no instance is available (drained: GPU0 failed: lost)");
  Status s;
  auto result = Submit("r0", &s);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(scheduler_->queue_size(), 1u);
  EXPECT_EQ(fakes_[0]->batch_count() + fakes_[1]->batch_count(), 0u);
  scheduler_->SetDrained(1, "");  // back in service: it takes the waiting request
  ASSERT_EQ(fakes_[1]->WaitForBatches(1).size(), 1u);
  fakes_[1]->Complete(0);
  EXPECT_TRUE(result.get().ok());
  EXPECT_EQ(fakes_[0]->batch_count(), 0u);
  EXPECT_TRUE(scheduler_->AnyInstanceAvailable());
}

TEST_F(ModelSchedulerTest, LoadAwareRoutingSendsWorkToTheFreeInstance) {
  SchedulerOptions options = Options(0, 16, 1);
  options.routing = RoutingPolicy::kLeastOutstanding;
  Start(options, 2);
  Status s;
  std::vector<std::future<StatusOr<InferResponse>>> results;
  for (int i = 0; i < 4; ++i) results.push_back(Submit("r" + std::to_string(i), &s));
  fakes_[0]->WaitForBatches(1);
  fakes_[1]->WaitForBatches(1);
  std::string first = fakes_[0]->BatchIdsText(0) + "|" + fakes_[1]->BatchIdsText(0);
  EXPECT_TRUE(first == "r0|r1" || first == "r1|r0") << first;
  // Instance 1 finishes twice while instance 0 is stuck: it gets both remaining requests.
  fakes_[1]->Complete(0);
  fakes_[1]->WaitForBatches(2);
  EXPECT_EQ(fakes_[1]->BatchIdsText(1), "r2");
  fakes_[1]->Complete(1);
  fakes_[1]->WaitForBatches(3);
  EXPECT_EQ(fakes_[1]->BatchIdsText(2), "r3");
  fakes_[1]->Complete(2);
  fakes_[0]->Complete(0);
  for (auto& r : results) EXPECT_TRUE(r.get().ok());
  SchedulerSnapshot snapshot = scheduler_->Snapshot();
  ASSERT_EQ(snapshot.instances.size(), 2u);
  EXPECT_EQ(snapshot.instances[0].batches + snapshot.instances[1].batches, 4u);
}

// With two slots, a busy instance takes its second batch only near the end of the first (within
// kPipelineLeadFraction of its measured time), so that batch takes in everything that arrived
// while the first executed instead of whatever was queued the moment the slot was free.
TEST_F(ModelSchedulerTest, BusyInstanceTakesItsNextBatchNearTheEndOfTheCurrentOne) {
  SchedulerOptions options = Options(8, 16, 2);
  options.batch_policy.max_queue_delay = Duration(0);
  Start(options);
  Status s;
  // Measure a batch of one: 100 ms.
  auto first = Submit("m0", &s);
  instance_->WaitForBatches(1);
  clock_.Advance(milliseconds(100));
  instance_->Complete(0);
  ASSERT_TRUE(first.get().ok());

  auto a = Submit("a", &s);  // the instance is idle: goes at once
  EXPECT_EQ(instance_->WaitForBatches(2), (std::vector<std::size_t>{1, 1}));
  const auto lead = std::chrono::duration_cast<milliseconds>(PipelineLead(milliseconds(100)));
  ASSERT_GT(lead, milliseconds(1));
  ASSERT_LT(lead, milliseconds(100));
  auto b = Submit("b", &s);  // 100 ms of work left, more than the lead: waits in the queue
  auto c = Submit("c", &s);
  EXPECT_EQ(b.wait_for(milliseconds(50)), std::future_status::timeout);
  EXPECT_EQ(scheduler_->queue_size(), 2u);
  clock_.Advance(milliseconds(100) - lead - milliseconds(1));
  scheduler_->Poke();
  EXPECT_EQ(c.wait_for(milliseconds(50)), std::future_status::timeout);
  EXPECT_EQ(scheduler_->queue_size(), 2u);
  clock_.Advance(milliseconds(1));  // the lead is left: b and c go, together
  scheduler_->Poke();
  EXPECT_EQ(instance_->WaitForBatches(3), (std::vector<std::size_t>{1, 1, 2}));
  EXPECT_EQ(instance_->BatchIdsText(2), "b,c");
  std::size_t batches = instance_->WaitForBatches(0).size();
  for (std::size_t i = 1; i < batches; ++i) instance_->Complete(i);
  EXPECT_TRUE(a.get().ok());
  EXPECT_TRUE(b.get().ok());
  EXPECT_TRUE(c.get().ok());
}

TEST_F(ModelSchedulerTest, RequestedOutputsAreSelectedInOrder) {
  Start(Options(0, 8, 1));
  QueuedRequest entry;
  entry.request = std::make_unique<InferRequest>();
  entry.request->id = "x";
  entry.request->requested_outputs = {"OTHER"};
  std::promise<StatusOr<InferResponse>> promise;
  entry.done = [&](StatusOr<InferResponse> r) { promise.set_value(std::move(r)); };
  entry.enqueue_time = clock_.Now();
  ASSERT_TRUE(scheduler_->Submit(std::move(entry)).ok());
  instance_->WaitForBatches(1);
  instance_->Complete(0);
  auto r = promise.get_future().get();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(r->outputs[0].name, "OTHER");
}

}  // namespace
}  // namespace switchyard
