#pragma once
// FakeInstance: an Instance for scheduler tests. It holds every batch it is given until the test
// answers it (Complete, Fail, Abort), and its availability is switched by the test, telling the
// scheduler as a real instance would (Announce). Thread-safe.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "instance/instance.h"

namespace switchyard::testing {

class FakeInstance final : public Instance {
 public:
  explicit FakeInstance(std::string name = "fake/0") : name_(std::move(name)) {}

  const std::string& name() const override { return name_; }
  void Execute(std::span<InferRequest* const> requests, BatchDone done) override {
    std::lock_guard<std::mutex> lock(mu_);
    batches_.push_back(
        {std::vector<InferRequest*>(requests.begin(), requests.end()), std::move(done)});
    cv_.notify_all();
  }
  bool available() const override { return available_.load(); }
  void SetObserver(std::function<void(InstanceEvent)> observer) override {
    std::lock_guard<std::mutex> lock(mu_);
    observer_ = std::move(observer);
  }

  // Switches availability and tells the observer, outside the lock (as instances must).
  void Announce(bool available, InstanceEvent event) {
    available_.store(available);
    std::function<void(InstanceEvent)> observer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      observer = observer_;
    }
    observer(event);
  }
  void SetAvailableQuietly(bool available) { available_.store(available); }

  std::size_t batch_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_.size();
  }
  // Waits (bounded) until `n` batches arrived; returns the sizes of all batches so far.
  std::vector<std::size_t> WaitForBatches(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return batches_.size() >= n; });
    std::vector<std::size_t> sizes;
    for (const auto& batch : batches_) sizes.push_back(batch.requests.size());
    return sizes;
  }
  // The request ids of batch `i`, and the same joined by commas ("r0,r2").
  std::vector<std::string> BatchIds(std::size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> ids;
    for (InferRequest* r : batches_.at(i).requests) ids.push_back(r->id);
    return ids;
  }
  std::string BatchIdsText(std::size_t i) {
    std::string text;
    for (const std::string& id : BatchIds(i)) text += (text.empty() ? "" : ",") + id;
    return text;
  }
  // The requests of batch `i`.
  std::vector<InferRequest*> Requests(std::size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_.at(i).requests;
  }
  // Batches not answered yet.
  std::vector<std::size_t> Outstanding() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < batches_.size(); ++i) {
      if (batches_[i].done) out.push_back(i);
    }
    return out;
  }

  // Answers batch `i` with two outputs per request: "OUT_<request id>" and "OTHER".
  void Complete(std::size_t i) {
    Answer(i, [](InferRequest* r) -> RequestOutputs {
      std::vector<Tensor> out;
      out.push_back({"OUT_" + r->id, DataType::kInt32, {1}, TensorData::Owned({})});
      out.push_back({"OTHER", DataType::kInt32, {1}, TensorData::Owned({})});
      return out;
    });
  }
  // Answers batch `i` failing each of its requests with `status`.
  void Fail(std::size_t i, const Status& status) {
    Answer(i, [&](InferRequest*) -> RequestOutputs { return status; });
  }
  // Answers batch `i` as a lost worker does: every request kAborted.
  void Abort(std::size_t i, const std::string& why = "fake/0 was lost: killed by signal 9") {
    Fail(i, Aborted(why));
  }

 private:
  struct Batch {
    std::vector<InferRequest*> requests;
    BatchDone done;
  };
  template <typename Fn>
  void Answer(std::size_t i, Fn answer) {
    BatchDone done;
    std::vector<RequestOutputs> outputs;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (InferRequest* r : batches_.at(i).requests) outputs.push_back(answer(r));
      done = std::move(batches_.at(i).done);
    }
    ASSERT_TRUE(done) << "batch " << i << " answered twice";
    done(std::move(outputs));
  }

  const std::string name_;
  std::atomic<bool> available_{true};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Batch> batches_;
  std::function<void(InstanceEvent)> observer_;
};

}  // namespace switchyard::testing
