#include "sim_instance.h"

#include "fmt/format.h"

namespace switchyard::sim {

StatusOr<std::unique_ptr<SimInstance>> SimInstance::Create(const ModelConfig* config,
                                                           int index) {
  ASSIGN_OR_RETURN(SimParameters params, ParseSimParameters(*config));
  return std::unique_ptr<SimInstance>(new SimInstance(config, params, index));
}

SimInstance::SimInstance(const ModelConfig* config, SimParameters params, int index)
    : config_(config),
      params_(params),
      name_(fmt::format("{}/{}", config->name, index)),
      rng_(params.seed + static_cast<uint64_t>(index)) {
  thread_ = std::thread([this] { Run(); });
}

SimInstance::~SimInstance() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

void SimInstance::Execute(std::span<InferRequest* const> requests, BatchDone done) {
  {
    MutexLock lock(&mu_);
    jobs_.push_back(Job{requests, std::move(done)});
  }
  cv_.Signal();
}

void SimInstance::Run() {
  while (true) {
    Job job;
    {
      MutexLock lock(&mu_);
      while (jobs_.empty() && !stopping_) cv_.Wait(&mu_);
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    RunJob(job);
  }
}

void SimInstance::RunJob(Job& job) {
  auto start = std::chrono::steady_clock::now();
  int64_t items = 0;
  for (const InferRequest* request : job.requests) items += request->batch_size;
  double scale = 1.0;
  if (params_.jitter > 0) {
    scale = std::uniform_real_distribution<double>(1 - params_.jitter, 1 + params_.jitter)(rng_);
  }
  bool fail = params_.failure_rate > 0 &&
              std::bernoulli_distribution(params_.failure_rate)(rng_);
  std::vector<RequestOutputs> outputs;
  outputs.reserve(job.requests.size());
  for (const InferRequest* request : job.requests) {
    if (fail) {
      outputs.emplace_back(Internal(fmt::format("{}: injected failure (failure_rate {})", name_,
                                                params_.failure_rate)));
    } else {
      outputs.push_back(Compute(params_, *config_, *request));
    }
  }
  // The sim stands in for a device: the batch is done when its service time has passed.
  auto service = std::chrono::duration_cast<std::chrono::nanoseconds>(
      BatchServiceTime(params_, items) * scale);
  std::this_thread::sleep_until(start + service);
  job.done(std::move(outputs));
}

}  // namespace switchyard::sim
