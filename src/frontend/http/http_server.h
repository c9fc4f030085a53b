#pragma once
// The HTTP/1.1 front end: Boost.Beast over Asio, several I/O threads, keep-alive and pipelining
// (requests on one connection are answered in order), bounded header, trailer and body sizes, a
// server-wide memory budget for bodies and replies, idle and write timeouts and a connection
// limit. Requests go to a Router. Every socket it opens is close-on-exec. With `tls` set, every
// connection speaks TLS only (see tls_config.h): the handshake runs on the connection's own I/O
// thread within the idle timeout, and a client that does not complete it (a plaintext request,
// a client certificate missing or not signed by the client CA) is closed; plaintext connections
// run the same code as before, instantiated for a plain TCP stream (no TLS layer, no indirection).
//
// Thread-safety: Start and Stop from one controlling thread; port() from any.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "frontend/http/router.h"
#include "frontend/http/tls_config.h"
#include "switchyard/clock.h"
#include "switchyard/status.h"

namespace switchyard::http {

struct HttpOptions {
  std::string host = "0.0.0.0";              // address to bind
  uint16_t port = 8000;                      // 0: any free port (see HttpServer::port)
  int threads = 0;                           // I/O threads; 0: the number of cores
  std::size_t max_body_bytes = 64u << 20;    // larger bodies get 413; default 64 MiB
  std::size_t max_header_bytes = 16u << 10;  // larger headers get 431; default 16 KiB
  int idle_timeout_s = 60;     // a connection with no complete request for this long is closed
  int write_timeout_s = 60;    // a reply not written within this long: its connection is closed
  int max_connections = 1024;  // connections beyond this are closed at once
  // Server-wide bytes of request bodies being received and replies being written (see
  // MemoryBudget); a body that would pass it is answered 503. Default 1 GiB.
  std::size_t max_buffered_bytes = std::size_t{1} << 30;
  // How long an I/O thread keeps polling for more work after its last before it sleeps. 0 (the
  // default): it sleeps at once. Polling trades a core per busy thread for the time a sleeping
  // thread takes to wake (tens to hundreds of µs on a VM whose idle vCPUs halt), which a lone
  // client pays on every request.
  Duration poll{};
  // Unset (the default): plaintext. Set: TLS only, with this certificate, key and client CA.
  std::optional<TlsCredentials> tls;
};

class HttpServer {
 public:
  HttpServer(HttpOptions options, const Router* router);
  ~HttpServer();  // Stop()

  // Binds, listens and starts the I/O threads. Fails with a message naming the address, or
  // OpenSSL's reason when the TLS credentials cannot be used.
  Status Start();
  // The port actually bound (useful with port 0). REQUIRES: Start() succeeded.
  uint16_t port() const;
  // Closes the listening socket; open connections go on being served.
  void StopAccepting();
  // Waits up to `drain` for every request already read to have its reply written, then closes
  // all connections and joins the I/O threads. Idempotent.
  void Stop(std::chrono::milliseconds drain = std::chrono::milliseconds(0));

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::http
