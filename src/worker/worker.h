#pragma once
// The worker process: serves one instance of one model for the server that started it
// (`switchyard worker`, an internal subcommand). It loads the backend plugin, the model and the
// instance, runs the warm-up, reports Ready over its channel, then executes the batches the
// server sends (inputs and outputs in shared memory) one after another on the thread that
// receives them, answering pings between batches; while a batch executes, a thread of its own
// tells the server every heartbeat interval that the worker lives (BusyHeartbeat), so a batch may
// run as long as the model takes. It ends when the server says Shutdown,
// closes the channel or dies (a parent-death signal kills it).

#include <string>
#include <vector>

#include "switchyard/clock.h"

namespace switchyard::worker {

struct WorkerOptions {
  std::string model_repository;  // the repository root
  std::string model;             // the model's folder name
  int64_t version = 0;           // the version to load
  int index = 0;                 // the instance's index within the model
  int gpu_count = 0;             // 0: a CPU instance
  std::string plugin_path;       // the backend plugin to load
  // The simulated GPU the instance is placed on, "<fd>:<speed>" (an inherited descriptor:
  // SyInstanceDesc::simulated_gpu); empty: none.
  std::string simulated_gpu;
  int channel_fd = 3;   // the inherited end of the server's channel
  long parent_pid = 0;  // the server; if it is already gone the worker exits at once
  // How long the worker spins for the server's next message before it sleeps (serve
  // --poll-us; 0: it sleeps at once).
  Duration poll{};
  // How often the worker tells the server it lives while a batch executes (the server's ping
  // interval). Default 1 s.
  Duration heartbeat_interval = std::chrono::seconds(1);
  // The cores the worker (and whatever it starts) runs on; empty: wherever the server may.
  std::vector<int> cpus;
};

// The exit code of a worker whose plugin lost its device: it sends ipc::DeviceLost and leaves at
// once (_exit: nothing of the plugin runs any more, not even its fini).
inline constexpr int kExitDeviceLost = 4;

// Runs the worker; returns the process exit code (0 after Shutdown, 2 when loading failed,
// 3 when the server broke the protocol, kExitDeviceLost).
int RunWorker(const WorkerOptions& options);

}  // namespace switchyard::worker
