#pragma once
// An instance of a plugin backend inside the server process (`isolation: thread`): the plugin's
// instance runs its batches one after another on a thread of its own. For trusted backends and
// tests: a crash here is a crash of the server, and a device the backend reports lost
// (SY_ERROR_DEVICE_LOST) stays lost: the listener hears of it, and later batches are refused
// (Unavailable) without reaching the backend.
// Thread-safety: see Instance.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/work_queue.h"
#include "instance/instance.h"
#include "plugin/plugin_model.h"

namespace switchyard {

class ThreadInstance final : public Instance {
 public:
  // `config` must outlive the instance.
  ThreadInstance(const ModelConfig* config, std::unique_ptr<plugin::PluginInstance> instance);
  ~ThreadInstance() override;  // finishes the batches already submitted

  const std::string& name() const override { return instance_->name(); }
  void Execute(std::span<InferRequest* const> requests, BatchDone done) override;
  void SetDeviceFaultListener(DeviceFaultListener listener) override;

 private:
  struct Job {
    std::span<InferRequest* const> requests;
    BatchDone done;
  };
  void Run();

  const ModelConfig* const config_;
  const std::unique_ptr<plugin::PluginInstance> instance_;
  WorkQueue<Job> jobs_;
  DeviceFaultNotifier fault_notifier_;
  std::thread thread_;
};

}  // namespace switchyard
