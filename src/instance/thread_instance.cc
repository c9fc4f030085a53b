#include "instance/thread_instance.h"

#include "core/thread_name.h"
#include "plugin/infer_request_batch.h"

namespace switchyard {

ThreadInstance::ThreadInstance(const ModelConfig* config,
                               std::unique_ptr<plugin::PluginInstance> instance)
    : config_(config), instance_(std::move(instance)) {
  thread_ = std::thread([this] {
    NameThisThread("sy-instance");
    Run();
  });
}

ThreadInstance::~ThreadInstance() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

void ThreadInstance::Execute(std::span<InferRequest* const> requests, BatchDone done) {
  {
    MutexLock lock(&mu_);
    jobs_.push_back(Job{requests, std::move(done)});
  }
  cv_.Signal();
}

void ThreadInstance::Run() {
  while (true) {
    Job job;
    {
      MutexLock lock(&mu_);
      while (jobs_.empty() && !stopping_) cv_.Wait(&mu_);
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    plugin::InferRequestBatch batch(config_, job.requests);
    if (instance_->device_lost()) {
      job.done(batch.Finish(Unavailable(name() + ": its GPU was lost")));
      continue;
    }
    Status status = instance_->Execute(batch);
    if (const auto& lost = instance_->device_lost()) fault_notifier_.Notify(/*lost=*/true, *lost);
    job.done(batch.Finish(status));
  }
}

void ThreadInstance::SetDeviceFaultListener(DeviceFaultListener listener) {
  fault_notifier_.Set(std::move(listener));
}

}  // namespace switchyard
