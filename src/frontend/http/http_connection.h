#pragma once
// One client connection of HttpServer: reads requests one at a time (pipelined ones are answered
// in order), hands each to the Router, writes its reply (streamed replies as they come), keeps
// the connection alive or closes it. The same code serves plaintext and TLS: it is a template
// on the stream, so a plaintext connection has no TLS layer and no virtual call on its path.
//
// Thread-safety: a connection runs on the I/O thread of its socket's io_context only; replies
// computed elsewhere are posted to it.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "frontend/http/http_server.h"
#include "frontend/http/memory_budget.h"
#include "frontend/http/router.h"

namespace switchyard::http {

// What the connections of one server share; all of it outlives every connection.
struct ConnectionShared {
  const Router* router = nullptr;
  const HttpOptions* options = nullptr;
  MemoryBudget* budget = nullptr;
  // Counted up by the acceptor for each admitted socket; the connection counts it down when it
  // ends.
  std::atomic<int>* open_connections = nullptr;
  std::atomic<int>* unanswered = nullptr;  // requests routed whose reply is not yet written
};

// Serves `socket` (connected, non-blocking) until the connection ends.
// REQUIRES: called on the thread that runs the socket's io_context.
void ServeConnection(boost::asio::ip::tcp::socket socket, const ConnectionShared& shared);

// The same over TLS: a server handshake first (bounded by options->idle_timeout_s), then the
// same requests and replies; a reply that ends the connection is followed by a TLS close_notify
// (bounded by options->write_timeout_s). A failed handshake closes the socket and is logged at
// debug level. `tls` outlives the connection.
// REQUIRES: called on the thread that runs the socket's io_context.
void ServeTlsConnection(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls,
                        const ConnectionShared& shared);

}  // namespace switchyard::http
