#pragma once
// An in-process instance of a sim model. Its batches run on a SimDevice: the simulated GPU it is
// placed on (shared with the other instances there), or a device of its own on CPU.
// Thread-safety: see Instance.

#include <memory>
#include <random>
#include <string>

#include "instance/instance.h"
#include "sim_device.h"
#include "sim_model.h"

namespace switchyard::sim {

class SimInstance final : public Instance {
 public:
  // `config` must outlive the instance; so must `device` when given. A null `device` gives the
  // instance its own (a CPU instance). `index` distinguishes instances (name, RNG seed).
  static StatusOr<std::unique_ptr<SimInstance>> Create(const ModelConfig* config, int index,
                                                       SimDevice* device);
  ~SimInstance() override = default;  // an own device finishes its jobs first

  const std::string& name() const override { return name_; }
  void Execute(std::span<InferRequest* const> requests, BatchDone done) override;

 private:
  SimInstance(const ModelConfig* config, SimParameters params, int index, SimDevice* device);
  // Computes the batch's outputs into `outputs` and returns its service time (with jitter).
  // Runs on the device thread, which alone uses rng_.
  Duration RunBatch(std::span<InferRequest* const> requests, std::vector<RequestOutputs>& outputs);

  const ModelConfig* const config_;
  const SimParameters params_;
  const std::string name_;
  std::mt19937_64 rng_;
  std::unique_ptr<SimDevice> own_device_;  // CPU instances only; declared before device_
  SimDevice* const device_;
};

}  // namespace switchyard::sim
