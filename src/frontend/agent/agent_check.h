#pragma once
// An HAProxy agent-check port (`serve --agent-port`): HAProxy connects every check interval, the
// server writes one line with its state and weight and closes. The line is
//
//   "up ready <weight>%\n"   serving; weight = the free share of instance capacity (1-100 %),
//                            so busier nodes get fewer new connections
//   "drain\n"                shutting down (SIGTERM's grace or drain): no new connections,
//                            the ones open go on
//   "down\n"                 not ready otherwise (a model cannot serve): out of the pool
//
// (HAProxy's agent-check protocol: words separated by spaces, a percentage sets the weight,
// "ready" lifts a drain or maintenance the agent set before.) Whatever the client sends is
// ignored. Thread-safety: Start and Stop from one thread; the answers run on a thread of its own.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "switchyard/server.h"
#include "switchyard/status.h"

namespace switchyard::agent {

// The line for a server in this state. `leaving`: the server is shutting down.
std::string AgentLine(bool ready, bool leaving, double utilization);

class AgentCheck {
 public:
  // `server` must outlive the agent; `leaving` is read at each answer.
  AgentCheck(const Server* server, const std::atomic<bool>* leaving)
      : server_(server), leaving_(leaving) {}
  ~AgentCheck();  // Stop
  AgentCheck(const AgentCheck&) = delete;
  AgentCheck& operator=(const AgentCheck&) = delete;

  // Listens on host:port (port 0: a free one; port() tells which) and starts answering.
  // Errors name the address.
  Status Start(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }
  // Stops answering and closes the port. Idempotent.
  void Stop();

 private:
  void Serve();

  const Server* const server_;
  const std::atomic<bool>* const leaving_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd that wakes Serve to end
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace switchyard::agent
