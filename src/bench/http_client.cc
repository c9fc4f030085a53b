#include "bench/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "fmt/format.h"

namespace switchyard::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxResponseBytes = std::size_t{1} << 30;

Status TransportError(std::string_view step, beast::error_code ec) {
  if (ec == beast::error::timeout) {
    return DeadlineExceeded(fmt::format("{}: timed out", step));
  }
  return Unavailable(fmt::format("{}: {}", step, ec.message()));
}

}  // namespace

StatusOr<ServerAddress> ParseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return InvalidArgument(fmt::format("url '{}' must start with http://", url));
  }
  std::string_view rest = url.substr(kScheme.size());
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    return InvalidArgument(fmt::format("url '{}' must be http://HOST[:PORT] (no path)", url));
  }
  std::size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return ServerAddress{std::string(rest), "80"};
  std::string_view port = rest.substr(colon + 1);
  if (colon == 0 || port.empty() ||
      port.find_first_not_of("0123456789") != std::string_view::npos) {
    return InvalidArgument(fmt::format("url '{}' has a bad host or port", url));
  }
  return ServerAddress{std::string(rest.substr(0, colon)), std::string(port)};
}

StatusOr<Endpoints> Resolve(const ServerAddress& address) {
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  auto results = resolver.resolve(address.host, address.port, ec);
  if (ec) {
    return Unavailable(
        fmt::format("cannot resolve {}:{}: {}", address.host, address.port, ec.message()));
  }
  return Endpoints(results.begin(), results.end());
}

StatusOr<HttpReply> HttpGet(const ServerAddress& address, std::string_view target,
                            Duration timeout) {
  HttpRequest request(http::verb::get, std::string(target), 11);
  request.set(http::field::host, address.host + ":" + address.port);
  return HttpCall(address, std::move(request), timeout);
}

StatusOr<HttpReply> HttpCall(const ServerAddress& address, HttpRequest request, Duration timeout) {
  ASSIGN_OR_RETURN(Endpoints endpoints, Resolve(address));
  asio::io_context io;
  beast::tcp_stream stream(io);
  request.keep_alive(false);
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  beast::flat_buffer buffer;
  std::optional<Status> result;
  // Asynchronous operations run to completion here so that `timeout` applies to every step.
  stream.expires_after(timeout);
  stream.async_connect(endpoints, [&](beast::error_code ec, const tcp::endpoint&) {
    if (ec) {
      result = TransportError(fmt::format("connect to {}:{}", address.host, address.port), ec);
      return;
    }
    http::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
      if (ec) {
        result = TransportError("send request", ec);
        return;
      }
      http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
        result = ec ? TransportError("read response", ec) : Status::Ok();
      });
    });
  });
  io.run();
  RETURN_IF_ERROR(*result);
  return HttpReply{parser.get().result_int(), std::move(parser.get().body())};
}

HttpRequest MakePostRequest(const ServerAddress& address, std::string_view target, std::string body,
                            std::size_t json_length) {
  HttpRequest request(http::verb::post, std::string(target), 11);
  request.set(http::field::host, address.host + ":" + address.port);
  request.set(http::field::content_type,
              json_length > 0 ? "application/octet-stream" : "application/json");
  if (json_length > 0) request.set("Inference-Header-Content-Length", std::to_string(json_length));
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

HttpConnection::HttpConnection(asio::io_context& io, const Endpoints& endpoints, Duration timeout,
                               OnDone on_done)
    : endpoints_(endpoints), timeout_(timeout), on_done_(std::move(on_done)), stream_(io) {}

void HttpConnection::RoundTrip(const HttpRequest& request) {
  stream_.expires_after(timeout_);
  if (connected_) {
    Write(request);
    return;
  }
  stream_.async_connect(endpoints_, [this, &request](beast::error_code ec, const tcp::endpoint&) {
    if (ec) return Fail("connect", ec);
    connected_ = true;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    Write(request);
  });
}

void HttpConnection::Write(const HttpRequest& request) {
  http::async_write(stream_, request, [this](beast::error_code ec, std::size_t) {
    if (ec) return Fail("send request", ec);
    parser_.emplace();
    parser_->body_limit(kMaxResponseBytes);
    http::async_read(stream_, buffer_, *parser_, [this](beast::error_code ec, std::size_t) {
      if (ec) return Fail("read response", ec);
      if (!parser_->get().keep_alive()) Close();
      on_done_(Status::Ok(), parser_->get().result_int());
    });
  });
}

void HttpConnection::Fail(std::string_view step, beast::error_code ec) {
  Close();
  on_done_(TransportError(step, ec), 0);
}

void HttpConnection::Close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  buffer_.clear();
  connected_ = false;
}

}  // namespace switchyard::bench
