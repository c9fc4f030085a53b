#include "frontend/grpc/grpc_server.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <limits>

#include "core/thread_name.h"
#include "fmt/format.h"
#include "frontend/grpc/health_service.h"
#include "frontend/grpc/inference_service.h"

namespace switchyard::grpc_frontend {

GrpcServer::GrpcServer(Server* server, GrpcOptions options,
                       http::SharedMemoryRegistry* shared_memory)
    : options_(std::move(options)),
      inference_(std::make_unique<InferenceService>(server, options_.service, shared_memory)),
      health_(std::make_unique<HealthService>(server)) {}

GrpcServer::~GrpcServer() {
  BeginShutdown(Duration::zero());
  Wait();
}

std::shared_ptr<grpc::ServerCredentials> GrpcServer::Credentials() const {
  if (!options_.tls) return grpc::InsecureServerCredentials();
  const http::TlsCredentials& tls = *options_.tls;
  grpc::SslServerCredentialsOptions ssl(
      tls.client_ca_pem.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls.client_ca_pem;
  ssl.pem_key_cert_pairs.push_back(
      {.private_key = tls.private_key_pem, .cert_chain = tls.cert_chain_pem});
  return grpc::SslServerCredentials(ssl);
}

Status GrpcServer::Start() {
  grpc::ServerBuilder builder;
  // "[::1]" for an IPv6 literal; a name or IPv4 address as it is.
  const std::string host = options_.host.find(':') != std::string::npos
                               ? fmt::format("[{}]", options_.host)
                               : options_.host;
  const std::string address = fmt::format("{}:{}", host, options_.port);
  int selected_port = 0;
  builder.AddListeningPort(address, Credentials(), &selected_port);
  builder.RegisterService(inference_.get());
  builder.RegisterService(health_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<std::size_t>(options_.max_receive_bytes, std::numeric_limits<int>::max())));
  builder.SetMaxSendMessageSize(-1);  // unlimited: an answer is as large as the model makes it
  // Keepalive: tritonclient may ping every few seconds, even between calls; a server that
  // counts those as abuse closes the connection (GOAWAY "too_many_pings").
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 2 * 60 * 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || selected_port == 0) {
    server_.reset();
    return Unavailable(
        fmt::format("gRPC: cannot listen on {} (in use, or not an address here)", address));
  }
  port_ = static_cast<uint16_t>(selected_port);
  return Status::Ok();
}

void GrpcServer::BeginShutdown(Duration grace) {
  if (server_ == nullptr || shutting_down_) return;
  shutting_down_ = true;
  inference_->Stop();
  const auto deadline = std::chrono::system_clock::now() +
                        std::chrono::duration_cast<std::chrono::microseconds>(grace);
  shutdown_ = std::thread([this, deadline] {
    NameThisThread("sy-grpc-stop");
    server_->Shutdown(deadline);
  });
}

void GrpcServer::Wait() {
  if (shutdown_.joinable()) shutdown_.join();
  if (server_ != nullptr) server_->Wait();
}

}  // namespace switchyard::grpc_frontend
