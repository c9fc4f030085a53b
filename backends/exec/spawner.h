#pragma once
// A long-lived thread on which the exec plugin forks its programs. PR_SET_PDEATHSIG fires when
// the *thread* that forked a child ends, not its process: forking on a host thread that may end
// (a model loader thread, say) would kill the program with that thread. One Spawner lives as
// long as the backend (SyBackendInit .. SyBackendFini). Thread-safe.

#include <deque>
#include <exception>
#include <functional>
#include <thread>

#include "switchyard/backend_sdk/mutex.h"

namespace switchyard::exec {

class Spawner {
 public:
  Spawner();
  // Joins the thread. REQUIRES: no Run in progress.
  ~Spawner();
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;

  // Runs `fn` on the spawner thread and returns when it has; an exception it throws is rethrown
  // here. Calls from several threads run one after another.
  void Run(const std::function<void()>& fn) SY_EXCLUDES(mu_);

 private:
  struct Job {
    const std::function<void()>* fn;
    bool done = false;
    std::exception_ptr error;
  };
  void Loop() SY_EXCLUDES(mu_);

  sdk::Mutex mu_;
  sdk::CondVar cv_;
  std::deque<Job*> jobs_ SY_GUARDED_BY(mu_);
  bool stopping_ SY_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts after the fields above exist
};

}  // namespace switchyard::exec
