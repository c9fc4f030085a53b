#pragma once
// The gRPC front end (`serve --grpc-port`): inference.GRPCInferenceService and
// grpc.health.v1.Health on one gRPC++ server (callback API), plaintext HTTP/2, or HTTP/2 over
// TLS only with `tls` set (gRPC's own TLS: SslServerCredentials with the same certificate, key
// and, when given, client CA; with a client CA every client must present a certificate that
// chains to it).
//
// Limits and policy: a message received is at most `max_receive_bytes` (RESOURCE_EXHAUSTED
// beyond, as gRPC answers it); keepalive pings are tolerated as tritonclient sends them (with or
// without calls in flight, every second at most, never answered with GOAWAY for "too many
// pings"). Shutdown is graceful (BeginShutdown, then Wait).
// Thread-safety: Start, BeginShutdown and Wait from one thread; the calls run on gRPC's threads.
// This header names no gRPC++ type: a file that includes core headers before it must not see
// Abseil's thread-safety macros (core/thread_annotations.h).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "frontend/grpc/service_options.h"
#include "frontend/http/tls_config.h"
#include "switchyard/server.h"
#include "switchyard/status.h"

namespace grpc {
class Server;
class ServerCredentials;
}  // namespace grpc
namespace switchyard::http {
class SharedMemoryRegistry;
}

namespace switchyard::grpc_frontend {

class HealthService;
class InferenceService;

struct GrpcOptions {
  std::string host = "0.0.0.0";  // the address to bind
  uint16_t port = 8001;          // 0: a free one (port() tells which)
  // Largest message a client may send, bytes. Default 64 MiB (serve passes the HTTP body limit,
  // --max-request-body-mb).
  std::size_t max_receive_bytes = std::size_t{64} << 20;
  ServiceOptions service;
  // Unset (the default): plaintext. Set: TLS only (checked by http::LoadTlsCredentials).
  std::optional<http::TlsCredentials> tls;
};

class GrpcServer {
 public:
  // `server` must outlive this object, and so must `shared_memory` (null: the system
  // shared-memory extension is off).
  GrpcServer(Server* server, GrpcOptions options, http::SharedMemoryRegistry* shared_memory);
  ~GrpcServer();  // BeginShutdown(0) and Wait, if Start succeeded
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Listens on host:port and starts serving. Errors name the address.
  Status Start();
  uint16_t port() const { return port_; }

  // Graceful stop, first half (returns at once): new calls are refused, open streams end once
  // the requests they read are answered, and calls in progress go on for up to `grace`; then
  // they are cancelled.
  void BeginShutdown(Duration grace);
  // Waits until every call has finished and the server has stopped. Idempotent.
  void Wait();

 private:
  // Insecure, or TLS from options_.tls.
  std::shared_ptr<grpc::ServerCredentials> Credentials() const;

  const GrpcOptions options_;
  std::unique_ptr<InferenceService> inference_;
  std::unique_ptr<HealthService> health_;
  std::unique_ptr<grpc::Server> server_;
  uint16_t port_ = 0;
  bool shutting_down_ = false;
  std::thread shutdown_;  // runs grpc::Server::Shutdown, which blocks until calls finish
};

}  // namespace switchyard::grpc_frontend
