#pragma once
// The load generator's HTTP/1.1 client (Boost.Beast): a blocking GET for metadata and
// statistics, and an asynchronous keep-alive connection for the measured requests.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/clock.h"
#include "switchyard/status.h"

namespace switchyard::bench {

struct ServerAddress {
  std::string host;
  std::string port;
};

// "http://HOST[:PORT][/]" (PORT defaults to 80). InvalidArgument for anything else.
StatusOr<ServerAddress> ParseUrl(std::string_view url);

using Endpoints = std::vector<boost::asio::ip::tcp::endpoint>;

// Unavailable if the host does not resolve.
StatusOr<Endpoints> Resolve(const ServerAddress& address);

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

// How long a control call (metadata, statistics, shared-memory registration) may take.
inline constexpr auto kControlTimeout = std::chrono::seconds(10);

// Sends `request` on a fresh connection and reads the reply, waiting at most `timeout`. A non-OK
// Status only for a connection failure or timeout; any HTTP status is a reply.
StatusOr<HttpReply> HttpCall(const ServerAddress& address, HttpRequest request, Duration timeout);

// HttpCall with a GET of `target`.
StatusOr<HttpReply> HttpGet(const ServerAddress& address, std::string_view target,
                            Duration timeout);

// A POST with Host, Content-Type and Content-Length set; `json_length` > 0 adds the
// Inference-Header-Content-Length header of the binary tensor extension.
HttpRequest MakePostRequest(const ServerAddress& address, std::string_view target, std::string body,
                            std::size_t json_length);

// One HTTP/1.1 keep-alive connection carrying one request at a time. It connects when first used
// and again after the server closed it or a failure. Lives on one io_context and is used only
// from its thread (not thread-safe).
class HttpConnection {
 public:
  // `ok` is the transport outcome (Unavailable naming the step that failed, DeadlineExceeded
  // after `timeout`); `http_status` is meaningful only when `ok` is OK.
  using OnDone = std::function<void(const Status& ok, unsigned http_status)>;

  // `endpoints` must outlive the connection. `on_done` runs on the io_context thread once per
  // RoundTrip, never inside RoundTrip itself.
  HttpConnection(boost::asio::io_context& io, const Endpoints& endpoints, Duration timeout,
                 OnDone on_done);

  // Sends `request` and reads the whole response, then calls on_done.
  // REQUIRES: no round trip outstanding; `request` outlives the round trip.
  void RoundTrip(const HttpRequest& request);

  // Closes the socket; an outstanding round trip completes with an error.
  void Close();

 private:
  void Write(const HttpRequest& request);
  void Fail(std::string_view step, boost::beast::error_code ec);

  const Endpoints& endpoints_;
  const Duration timeout_;
  const OnDone on_done_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
  bool connected_ = false;
};

}  // namespace switchyard::bench
