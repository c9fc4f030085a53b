// ModelScheduler when instances are lost: a request whose batch comes back kAborted is retried
// once, alone in its batch; a second loss is Internal; an instance that is not available gets
// no batches until it reports kAvailable. Driven by a fake instance and a fake clock.

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <set>
#include <thread>

#include "scheduler/model_scheduler.h"
#include "testing/fake_instance.h"

namespace switchyard {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using testing::FakeInstance;

using Result = std::future<StatusOr<InferResponse>>;

class ModelSchedulerRetryTest : public ::testing::Test {
 protected:
  void Start(SchedulerOptions options, int instance_count = 1) {
    std::vector<std::unique_ptr<Instance>> instances;
    for (int i = 0; i < instance_count; ++i) {
      std::string name = "fake/" + std::to_string(i);
      auto instance = std::make_unique<FakeInstance>(name);
      stats_.AddInstance(name, "cpu");
      fakes_.push_back(instance.get());
      instances.push_back(std::move(instance));
    }
    scheduler_ = std::make_unique<ModelScheduler>(options, std::move(instances), &clock_, &stats_);
  }

  Result Submit(const std::string& id, Status* submit_status = nullptr) {
    auto promise = std::make_shared<std::promise<StatusOr<InferResponse>>>();
    QueuedRequest entry;
    entry.request = std::make_unique<InferRequest>();
    entry.request->id = id;
    entry.request->model_name = "m";
    entry.done = [promise](StatusOr<InferResponse> r) { promise->set_value(std::move(r)); };
    entry.enqueue_time = clock_.Now();
    Status s = scheduler_->Submit(std::move(entry));
    EXPECT_TRUE(submit_status != nullptr || s.ok()) << s.ToString();
    if (submit_status != nullptr) *submit_status = s;
    return promise->get_future();
  }

  static SchedulerOptions Options(int64_t max_batch, int inflight = 1) {
    SchedulerOptions o;
    o.queue_max_size = 16;
    o.max_inflight_batches = inflight;
    o.batch_policy.max_batch_size = max_batch;
    o.batch_policy.max_queue_delay = seconds(1);  // fake time: only a full batch cuts early
    return o;
  }

  uint64_t Retries() {
    return registry_.GetCounter("switchyard_request_retries_total", "", {{"model", "m"}})->value();
  }
  uint64_t Restarts(const std::string& instance) {
    return registry_
        .GetCounter("switchyard_instance_restarts_total", "",
                    {{"model", "m"}, {"instance", instance}, {"device", "cpu"}})
        ->value();
  }

  static StatusOr<InferResponse> Get(Result& result) {
    if (result.wait_for(seconds(20)) != std::future_status::ready) {
      return Internal("test: no answer within the bound");
    }
    return result.get();
  }

  FakeClock clock_;
  metrics::Registry registry_;
  ModelStats stats_{"m", "1", &registry_};
  std::vector<FakeInstance*> fakes_;
  std::unique_ptr<ModelScheduler> scheduler_;
};

TEST_F(ModelSchedulerRetryTest, AbortedRequestsAreRetriedEachAloneThenSucceed) {
  Start(Options(4));
  FakeInstance& instance = *fakes_[0];
  std::map<std::string, Result> results;
  for (std::string id : {"a", "b", "c", "d"}) results[id] = Submit(id);
  ASSERT_EQ(instance.WaitForBatches(1).size(), 1u);
  EXPECT_EQ(instance.BatchIds(0), (std::vector<std::string>{"a", "b", "c", "d"}));
  // Two more wait behind the executing batch (not enough for a batch; their delay not over).
  for (std::string id : {"e", "f"}) results[id] = Submit(id);
  EXPECT_EQ(scheduler_->queue_size(), 2u);

  instance.Abort(0);
  // From here on let every delay be over whenever the scheduler looks, and answer each batch
  // as it comes until all six requests are answered.
  const std::set<std::string> retried = {"a", "b", "c", "d"};
  std::map<std::string, int> executions;
  std::size_t next = 1;
  while (next < 12) {
    bool all_answered = true;
    for (auto& [id, result] : results) {
      if (result.wait_for(milliseconds(0)) != std::future_status::ready) all_answered = false;
    }
    if (all_answered) break;
    clock_.Advance(seconds(1));
    scheduler_->Poke();
    ASSERT_EQ(instance.WaitForBatches(next + 1).size(), next + 1) << "no batch " << next;
    std::vector<std::string> ids = instance.BatchIds(next);
    for (const auto& id : ids) {
      ++executions[id];
      if (retried.count(id) != 0) {
        EXPECT_EQ(ids.size(), 1u) << "retried request " << id << " shared its batch";
      }
    }
    instance.Complete(next);
    ++next;
  }
  for (auto& [id, result] : results) {
    auto r = Get(result);
    ASSERT_TRUE(r.ok()) << id << ": " << r.status().ToString();
    EXPECT_EQ(r->id, id);
    EXPECT_EQ(executions[id], 1) << id << " executed again " << executions[id] << " times";
  }
  EXPECT_EQ(Retries(), 4u);
  ModelStatistics stats = stats_.Read();
  EXPECT_EQ(stats.inference_stats.success.count, 6u);
  EXPECT_EQ(stats.inference_stats.fail.count, 0u);
  EXPECT_EQ(scheduler_->queue_size(), 0u);
}

TEST_F(ModelSchedulerRetryTest, AbortedTwiceIsInternalAlreadyRetriedOnce) {
  Start(Options(0));
  FakeInstance& instance = *fakes_[0];
  Result result = Submit("x");
  ASSERT_EQ(instance.WaitForBatches(1).size(), 1u);
  instance.Abort(0, "fake/0 was lost: first loss");
  ASSERT_EQ(instance.WaitForBatches(2).size(), 2u) << "the request was not retried";
  EXPECT_EQ(instance.BatchIds(1), (std::vector<std::string>{"x"}));
  instance.Abort(1, "fake/0 was lost: second loss");
  auto r = Get(result);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("second loss"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("already retried once"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(Retries(), 1u);
  EXPECT_EQ(instance.batch_count(), 2u) << "retried more than once";
  ModelStatistics stats = stats_.Read();
  EXPECT_EQ(stats.inference_stats.fail.count, 1u);
  EXPECT_EQ(stats.inference_stats.success.count, 0u);
}

TEST(SchedulerOptionsTest, AModelThatIsNotIdempotentRetriesNothing) {
  ModelConfig config;
  EXPECT_TRUE(SchedulerOptionsFromConfig(config, 1).retry_lost);
  config.idempotent = false;
  EXPECT_FALSE(SchedulerOptionsFromConfig(config, 1).retry_lost);
}

TEST_F(ModelSchedulerRetryTest, ANonIdempotentModelsLostRequestFailsWithoutARetry) {
  SchedulerOptions options = Options(0);
  options.retry_lost = false;  // idempotent: false
  Start(options);
  FakeInstance& instance = *fakes_[0];
  Result result = Submit("x");
  ASSERT_EQ(instance.WaitForBatches(1).size(), 1u);
  instance.Abort(0, "fake/0 was lost: its worker died");
  auto r = Get(result);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("its worker died"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("not run again: the model is not idempotent"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(Retries(), 0u);
  EXPECT_EQ(instance.batch_count(), 1u);
  Result next = Submit("y");  // the model still serves
  ASSERT_EQ(instance.WaitForBatches(2).size(), 2u);
  EXPECT_EQ(instance.BatchIds(1), (std::vector<std::string>{"y"}));
  instance.Complete(1);
  EXPECT_TRUE(Get(next).ok());
}

TEST_F(ModelSchedulerRetryTest, ALostRequestThatSentPartialResponsesFailsWithoutARetry) {
  Start(Options(0));
  FakeInstance& instance = *fakes_[0];
  auto promise = std::make_shared<std::promise<StatusOr<InferResponse>>>();
  QueuedRequest entry;
  entry.request = std::make_unique<InferRequest>();
  entry.request->id = "streamed";
  entry.request->model_name = "m";
  auto partial = std::make_shared<PartialResponses>([](std::vector<Tensor>) {});
  entry.request->partial = partial;
  entry.done = [promise](StatusOr<InferResponse> r) { promise->set_value(std::move(r)); };
  entry.enqueue_time = clock_.Now();
  ASSERT_TRUE(scheduler_->Submit(std::move(entry)).ok());
  ASSERT_EQ(instance.WaitForBatches(1).size(), 1u);
  partial->Send({});  // the instance sent one before it was lost
  instance.Abort(0, "fake/0 was lost: its worker died");
  auto r = promise->get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not run again: its client has had partial responses"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(Retries(), 0u);
  EXPECT_EQ(instance.batch_count(), 1u);
}

// "Requeued once at the front": the retry goes out before requests that were queued behind it.
TEST_F(ModelSchedulerRetryTest, RetryGoesBeforeRequestsQueuedBehindIt) {
  Start(Options(0));  // no batching: one request per batch, cut at once
  FakeInstance& instance = *fakes_[0];
  Result first = Submit("first");
  ASSERT_EQ(instance.WaitForBatches(1).size(), 1u);
  Result second = Submit("second");  // waits: the only slot is taken
  EXPECT_EQ(scheduler_->queue_size(), 1u);
  instance.Abort(0);
  ASSERT_EQ(instance.WaitForBatches(2).size(), 2u);
  EXPECT_EQ(instance.BatchIds(1), (std::vector<std::string>{"first"}))
      << "the freed slot went to a request queued behind the retry";
  instance.Complete(1);
  ASSERT_EQ(instance.WaitForBatches(3).size(), 3u);
  instance.Complete(2);
  EXPECT_TRUE(Get(first).ok());
  EXPECT_TRUE(Get(second).ok());
}

// The requests of one lost batch are retried in the order they arrived (FIFO within a level).
TEST_F(ModelSchedulerRetryTest, RetriesOfOneBatchKeepTheirOrder) {
  Start(Options(3));
  FakeInstance& instance = *fakes_[0];
  std::vector<Result> results;
  for (std::string id : {"a", "b", "c"}) results.push_back(Submit(id));
  ASSERT_EQ(instance.WaitForBatches(1).size(), 1u);
  instance.Abort(0);
  std::vector<std::string> order;
  for (std::size_t i = 1; i <= 3; ++i) {
    clock_.Advance(seconds(1));
    scheduler_->Poke();
    ASSERT_EQ(instance.WaitForBatches(i + 1).size(), i + 1);
    auto ids = instance.BatchIds(i);
    ASSERT_EQ(ids.size(), 1u);
    order.push_back(ids[0]);
    instance.Complete(i);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
  for (auto& r : results) EXPECT_TRUE(Get(r).ok());
}

TEST_F(ModelSchedulerRetryTest, RetryGoesToAnInstanceThatIsUp) {
  SchedulerOptions options = Options(0);
  options.routing = RoutingPolicy::kLeastOutstanding;
  Start(options, 2);
  Result a = Submit("a");
  Result b = Submit("b");
  ASSERT_EQ(fakes_[0]->WaitForBatches(1).size(), 1u);
  ASSERT_EQ(fakes_[1]->WaitForBatches(1).size(), 1u);
  // Instance 0 loses its worker: it goes down first, then answers its batch kAborted.
  std::string lost_id = fakes_[0]->BatchIds(0)[0];
  fakes_[0]->Announce(false, InstanceEvent::kUnavailable);
  fakes_[0]->Abort(0);
  fakes_[1]->Complete(0);
  ASSERT_EQ(fakes_[1]->WaitForBatches(2).size(), 2u) << "the retry did not reach the live instance";
  EXPECT_EQ(fakes_[1]->BatchIds(1), (std::vector<std::string>{lost_id}));
  fakes_[1]->Complete(1);
  EXPECT_TRUE(Get(a).ok());
  EXPECT_TRUE(Get(b).ok());
  EXPECT_EQ(fakes_[0]->batch_count(), 1u);
  EXPECT_EQ(Retries(), 1u);
}

TEST_F(ModelSchedulerRetryTest, UnavailableInstanceGetsNoBatchesUntilItIsAvailable) {
  Start(Options(0));
  FakeInstance& instance = *fakes_[0];
  instance.SetAvailableQuietly(false);
  EXPECT_FALSE(scheduler_->AnyInstanceAvailable());
  // With an available instance, Submit would execute on this very thread before returning.
  Result a = Submit("a");
  Result b = Submit("b");
  EXPECT_EQ(instance.batch_count(), 0u);
  EXPECT_EQ(scheduler_->queue_size(), 2u);
  SchedulerSnapshot snapshot = scheduler_->Snapshot();
  EXPECT_EQ(snapshot.instances[0].inflight_batches, 0);
  // The dispatcher, woken, still does not give it anything.
  clock_.Advance(seconds(5));
  scheduler_->Poke();
  EXPECT_EQ(scheduler_->queue_size(), 2u);
  EXPECT_EQ(instance.batch_count(), 0u);

  // kAvailable makes the scheduler dispatch.
  instance.Announce(true, InstanceEvent::kAvailable);
  ASSERT_EQ(instance.WaitForBatches(1).size(), 1u);
  EXPECT_TRUE(scheduler_->AnyInstanceAvailable());
  instance.Complete(0);
  ASSERT_EQ(instance.WaitForBatches(2).size(), 2u);
  instance.Complete(1);
  EXPECT_TRUE(Get(a).ok());
  EXPECT_TRUE(Get(b).ok());
}

TEST_F(ModelSchedulerRetryTest, OnlyTheAvailableInstanceGetsWork) {
  Start(Options(0), 2);
  fakes_[0]->SetAvailableQuietly(false);
  std::vector<Result> results;
  for (std::string id : {"a", "b", "c"}) results.push_back(Submit(id));
  ASSERT_EQ(fakes_[1]->WaitForBatches(1).size(), 1u);
  EXPECT_EQ(scheduler_->queue_size(), 2u);
  fakes_[1]->Complete(0);
  ASSERT_EQ(fakes_[1]->WaitForBatches(2).size(), 2u);
  EXPECT_EQ(fakes_[0]->batch_count(), 0u);
  // Instance 0 comes back (a restarted worker): it takes the last request at once.
  fakes_[0]->Announce(true, InstanceEvent::kRestarted);
  fakes_[0]->Announce(true, InstanceEvent::kAvailable);
  ASSERT_EQ(fakes_[0]->WaitForBatches(1).size(), 1u);
  fakes_[0]->Complete(0);
  fakes_[1]->Complete(1);
  for (auto& r : results) EXPECT_TRUE(Get(r).ok());
  EXPECT_EQ(Restarts("fake/0"), 1u);
  EXPECT_EQ(Restarts("fake/1"), 0u);
}

TEST_F(ModelSchedulerRetryTest, AbortedWhileShuttingDownIsAnsweredNotRetried) {
  Start(Options(0));
  FakeInstance& instance = *fakes_[0];
  Result executing = Submit("executing");
  ASSERT_EQ(instance.WaitForBatches(1).size(), 1u);
  Result queued = Submit("queued");
  std::thread stopper([&] { scheduler_->Shutdown(); });
  // The queued request is answered once Shutdown has begun.
  EXPECT_EQ(Get(queued).status().code(), StatusCode::kUnavailable);
  instance.Abort(0, "fake/0 was lost during shutdown");
  auto r = Get(executing);
  stopper.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal) << r.status().ToString();
  EXPECT_NE(r.status().message().find("lost during shutdown"), std::string::npos);
  EXPECT_EQ(instance.batch_count(), 1u);
  EXPECT_EQ(Retries(), 0u);
}

// A worker runs the batches it holds one after another: with max_inflight_batches 2 it holds a
// second batch while executing the first. A retried request forms a batch alone so that, if it
// is what kills its worker, it takes down no other request the second time; that holds only if
// no other batch is in flight on its instance meanwhile.
TEST_F(ModelSchedulerRetryTest, SoloRetryIsTheOnlyBatchOnItsInstance) {
  Start(Options(4, /*inflight=*/2));
  FakeInstance& instance = *fakes_[0];
  std::vector<Result> results;
  for (std::string id : {"a", "b", "c", "d", "e", "f", "g", "h"}) results.push_back(Submit(id));
  ASSERT_EQ(instance.WaitForBatches(2).size(), 2u);  // [a b c d] and [e f g h], both in flight
  // The worker dies: both batches come back kAborted; all eight requests are retried.
  instance.Abort(0);
  instance.Abort(1);
  auto all_answered = [&] {
    for (auto& r : results) {
      if (r.wait_for(milliseconds(0)) != std::future_status::ready) return false;
    }
    return true;
  };
  for (int step = 0; step < 40 && !all_answered(); ++step) {
    std::size_t seen = instance.batch_count();  // before Outstanding: a batch may arrive
    std::vector<std::size_t> outstanding = instance.Outstanding();
    if (outstanding.empty()) {  // the rest waits for its batch delay: let it pass
      clock_.Advance(seconds(1));
      scheduler_->Poke();
      instance.WaitForBatches(seen + 1);
      continue;
    }
    bool retry_in_flight = false;  // every batch after the first two holds retried requests
    for (std::size_t i : outstanding) retry_in_flight |= i >= 2;
    if (retry_in_flight) {
      EXPECT_EQ(outstanding.size(), 1u) << "a retried request shares its instance with "
                                        << outstanding.size() - 1 << " other batch(es) in flight";
    }
    for (std::size_t i : outstanding) instance.Complete(i);
  }
  for (auto& r : results) {
    auto answer = Get(r);
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
  }
  EXPECT_EQ(Retries(), 8u);
}

}  // namespace
}  // namespace switchyard
