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
  jobs_.Close();
  thread_.join();
}

void ThreadInstance::Execute(std::span<InferRequest* const> requests, BatchDone done) {
  (void)jobs_.Push(Job{requests, std::move(done)});  // closed only by the destructor
}

void ThreadInstance::Run() {
  while (std::optional<Job> next = jobs_.Pop()) {
    Job& job = *next;
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
