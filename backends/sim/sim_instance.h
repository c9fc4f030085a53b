#pragma once
// An in-process instance of a sim model. Batches run one after another on the instance's own
// thread, each taking the model's service time (a sim instance behaves like one device).
// Thread-safety: see Instance.

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "core/mutex.h"
#include "instance/instance.h"
#include "sim_model.h"

namespace switchyard::sim {

class SimInstance final : public Instance {
 public:
  // `config` must outlive the instance. `index` distinguishes instances (name, RNG seed).
  static StatusOr<std::unique_ptr<SimInstance>> Create(const ModelConfig* config, int index);
  ~SimInstance() override;  // finishes queued batches, then stops the thread

  const std::string& name() const override { return name_; }
  void Execute(std::span<InferRequest* const> requests, BatchDone done) override;

 private:
  struct Job {
    std::span<InferRequest* const> requests;
    BatchDone done;
  };

  SimInstance(const ModelConfig* config, SimParameters params, int index);
  void Run();
  void RunJob(Job& job);

  const ModelConfig* const config_;
  const SimParameters params_;
  const std::string name_;
  std::mt19937_64 rng_;  // used only by the instance thread

  Mutex mu_;
  CondVar cv_;
  std::deque<Job> jobs_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace switchyard::sim
