#include "frontend/http/http_server.h"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <sstream>
#include <thread>
#include <vector>

#include "core/run_polling.h"
#include "core/thread_name.h"
#include "fmt/format.h"
#include "frontend/http/kserve_codec.h"
#include "spdlog/spdlog.h"
#include "switchyard/clock.h"

namespace switchyard::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// The status line and header fields of `header`, ending in the blank line.
std::string HeaderText(const bhttp::response_header<>& header) {
  std::ostringstream text;
  text << header;
  return std::move(text).str();
}

Method ToMethod(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::post:
      return Method::kPost;
    default:
      return Method::kOther;
  }
}

// One client connection. Reads one request at a time and answers it before reading the next, so
// pipelined requests are answered in order. While a request is pending it watches the socket so
// a client that goes away cancels its queued work.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  static constexpr std::size_t kLargeRead = 256 << 10;   // read size for large bodies
  static constexpr std::size_t kSmallBuffer = 16 << 10;  // kept by an idle connection
  static constexpr std::size_t kDirectBody = 1 << 10;    // smallest body read directly

  Connection(tcp::socket socket, const Router* router, const HttpOptions* options,
             std::atomic<int>* open_connections, std::atomic<int>* unanswered)
      : stream_(std::move(socket)),
        router_(router),
        options_(options),
        open_connections_(open_connections),
        unanswered_(unanswered) {}

  ~Connection() { open_connections_->fetch_sub(1, std::memory_order_relaxed); }

  void Start() { ReadRequest(); }

 private:
  void ReadRequest() {
    direct_body_.reset();
    parser_.emplace();
    parser_->body_limit(options_->max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(options_->max_header_bytes));
    stream_.expires_after(std::chrono::seconds(options_->idle_timeout_s));
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  // A client that sent `Expect: 100-continue` (curl does for bodies over 1 MiB) waits for a
  // "100 Continue" before it sends the body; it gets one unless the body is over the limit (then
  // the 413 comes at once).
  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    const auto& header = parser_->get();
    auto expect = header[bhttp::field::expect];
    auto length = parser_->content_length();
    if (header.version() >= 11 && beast::iequals(expect, "100-continue")) {
      if (length && *length > options_->max_body_bytes) return SendBodyTooLarge();
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                               [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                 if (ec) return self->Close();
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  // A POST body of known length from kDirectBody bytes up is received straight into the memory
  // the router gives it (for an infer request of a model with worker processes: the model's
  // shared-memory body pool, from which its workers read the inputs). Other bodies go through
  // Beast's parser: it reads at most what the buffer has room for and moves body bytes out of it
  // as they come, so a buffer that never grew would read a large body ~1 KB per recv. A large
  // body gets a buffer of kLargeRead for its reading; it is given back once the request is read,
  // so idle connections stay small.
  void ReadBody() {
    auto length = parser_->content_length();
    const auto& header = parser_->get();
    if (length && *length >= kDirectBody && *length <= options_->max_body_bytes &&
        header.method() == bhttp::verb::post) {
      std::size_t json_length = 0;
      if (auto it = header.find("Inference-Header-Content-Length"); it != header.end()) {
        auto text = it->value();
        std::from_chars(text.data(), text.data() + text.size(), json_length);
      }
      auto target = header.target();
      direct_body_ =
          router_->NewBody({target.data(), target.size()}, static_cast<std::size_t>(*length),
                           std::min<std::size_t>(json_length, *length));
      return ReadDirectBody();
    }
    if (length && *length > buffer_.capacity()) {
      buffer_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*length, kLargeRead)));
    }
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  // Moves what the buffer already holds of the body into direct_body_, then reads the rest from
  // the socket into it.
  void ReadDirectBody() {
    std::span<std::byte> into = direct_body_->mutable_bytes();
    std::size_t have = asio::buffer_copy(asio::buffer(into.data(), into.size()), buffer_.data());
    buffer_.consume(have);
    if (have == into.size()) return OnRead({});
    asio::async_read(
        stream_, asio::buffer(into.data() + have, into.size() - have),
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return Close();
    }
    if (ec == bhttp::error::body_limit) return SendBodyTooLarge();
    if (ec == bhttp::error::header_limit) {
      return SendError(431, fmt::format("request header larger than the limit of {} bytes",
                                        options_->max_header_bytes));
    }
    if (ec) return SendError(400, fmt::format("malformed HTTP request: {}", ec.message()));

    bhttp::request<bhttp::string_body> message = parser_->release();
    if (buffer_.capacity() > kSmallBuffer && buffer_.size() == 0) buffer_.shrink_to_fit();
    keep_alive_ = message.keep_alive();
    version_ = message.version();
    head_ = message.method() == bhttp::verb::head;
    HttpRequest request;
    request.method = ToMethod(message.method());
    request.target = std::string(message.target());
    if (auto it = message.find("Inference-Header-Content-Length"); it != message.end()) {
      request.inference_header_length = std::string(it->value());
    }
    if (auto it = message.find(bhttp::field::authorization); it != message.end()) {
      request.authorization = std::string(it->value());
    }
    if (direct_body_) {
      request.body = std::move(*direct_body_);
      direct_body_.reset();
    } else {
      request.body = std::move(message.body());
    }
    cancel_ = std::make_shared<CancelToken>();
    request.cancel = cancel_;
    stream_.expires_never();
    unanswered_->fetch_add(1, std::memory_order_relaxed);
    ++pending_generation_;
    WatchForDisconnect();
    // The reply callback gives up its hold on the connection when it is called: whoever stores
    // the callback (a scheduler's batch) may destroy it later, on its own thread, after the
    // server is gone, and must not be the one to destroy the connection then.
    router_->Handle(std::move(request), [self = shared_from_this()](HttpReply reply) mutable {
      std::shared_ptr<Connection> connection = std::move(self);
      if (connection == nullptr) return;  // a second call: the request was answered already
      auto executor = connection->stream_.get_executor();
      asio::post(executor,
                 [connection = std::move(connection), reply = std::move(reply)]() mutable {
                   connection->Send(std::move(reply));
                 });
    });
  }

  // Detects a peer that closes while its request is pending: the socket becomes readable and a
  // peek reads 0 bytes (or fails). Data instead means a pipelined request; then stop watching.
  void WatchForDisconnect() {
    uint64_t generation = pending_generation_;
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(),
                                                         generation](beast::error_code ec) {
      if (ec || generation != self->pending_generation_ || self->cancel_ == nullptr) return;
      char byte;
      ssize_t n = ::recv(self->stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        self->cancel_->Cancel();
      }
    });
  }

  void SendBodyTooLarge() {
    SendError(413, fmt::format("request body larger than the limit of {} bytes",
                               options_->max_body_bytes));
  }

  void SendError(unsigned status, std::string message) {
    HttpReply reply;
    reply.status = status;
    reply.body = ErrorJson(message);
    reply.close = true;
    keep_alive_ = false;
    Send(std::move(reply));
  }

  void Send(HttpReply reply) {
    ++pending_generation_;  // the disconnect watch of this request is over
    bool routed = cancel_ != nullptr;
    cancel_.reset();
    auto response = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(reply.status), version_ == 0 ? 11 : version_);
    response->set(bhttp::field::server, "switchyard");
    response->set(bhttp::field::content_type, reply.content_type);
    for (auto& [name, value] : reply.headers) response->set(name, value);
    bool keep = keep_alive_ && !reply.close;
    response->keep_alive(keep);
    response->body() = std::move(reply.body);
    auto written = [self = shared_from_this(), keep, routed](beast::error_code ec) {
      if (routed) self->unanswered_->fetch_sub(1, std::memory_order_relaxed);
      if (ec || !keep) return self->Close();
      self->ReadRequest();
    };
    if (!reply.body_tail.empty() && !head_)
      return SendGathered(response, std::move(reply), written);
    response->prepare_payload();
    if (head_) response->body().clear();
    bhttp::async_write(stream_, *response,
                       [response, written](beast::error_code ec, std::size_t) { written(ec); });
  }

  // Writes the header, the body and then the reply's tail buffers with one gathered write, so
  // that the tail (binary outputs) goes to the socket from where it lies.
  template <typename Written>
  void SendGathered(std::shared_ptr<bhttp::response<bhttp::string_body>> response, HttpReply reply,
                    Written written) {
    std::size_t length = response->body().size();
    for (const auto& part : reply.body_tail) length += part.size();
    response->content_length(length);
    auto head = std::make_shared<std::string>(HeaderText(response->base()));
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(2 + reply.body_tail.size());
    buffers.emplace_back(head->data(), head->size());
    buffers.emplace_back(response->body().data(), response->body().size());
    for (const auto& part : reply.body_tail) buffers.emplace_back(part.data(), part.size());
    asio::async_write(stream_, buffers,
                      [head, response, owner = std::move(reply.tail_owner), written](
                          beast::error_code ec, std::size_t) { written(ec); });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  // The body being received outside the parser (after the header), if it is.
  std::optional<RequestBody> direct_body_;
  const Router* const router_;
  const HttpOptions* const options_;
  std::atomic<int>* const open_connections_;
  std::atomic<int>* const unanswered_;   // requests routed whose reply is not yet written
  std::shared_ptr<CancelToken> cancel_;  // set while a routed request awaits its reply
  uint64_t pending_generation_ = 0;
  bool keep_alive_ = true;
  bool head_ = false;
  unsigned version_ = 11;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpOptions options, const Router* router) : options_(std::move(options)), router_(router) {
    int threads = options_.threads > 0 ? options_.threads
                                       : static_cast<int>(std::thread::hardware_concurrency());
    for (int i = 0; i < std::max(1, threads); ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
    }
    acceptor_.emplace(*contexts_[0]);
  }

  Status Start() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec)
      return InvalidArgument(fmt::format("invalid host '{}': {}", options_.host, ec.message()));
    tcp::endpoint endpoint(address, options_.port);
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Unavailable(
          fmt::format("cannot listen on {}:{}: {}", options_.host, options_.port, ec.message()));
    }
    port_ = acceptor_->local_endpoint().port();
    Accept();
    for (auto& context : contexts_) {
      guards_.emplace_back(asio::make_work_guard(*context));
      threads_.emplace_back([ctx = context.get(), i = threads_.size(), poll = options_.poll] {
        NameThisThread("sy-http-" + std::to_string(i));
        RunPolling(*ctx, poll);
      });
    }
    return Status::Ok();
  }

  uint16_t port() const { return port_; }

  void StopAccepting() {
    asio::post(*contexts_[0], [this] {
      beast::error_code ignored;
      acceptor_->close(ignored);
    });
  }

  void Stop(std::chrono::milliseconds drain) {
    if (threads_.empty()) return;
    // Bounded wait for replies still being produced or written.
    auto give_up = std::chrono::steady_clock::now() + drain;
    while (unanswered_.load() > 0 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    guards_.clear();
    for (auto& context : contexts_) context->stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    beast::error_code ignored;
    acceptor_->close(ignored);
  }

 private:
  void Accept() {
    asio::io_context& target = *contexts_[next_context_++ % contexts_.size()];
    acceptor_->async_accept(target, [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        if (open_connections_.fetch_add(1, std::memory_order_relaxed) >= options_.max_connections) {
          open_connections_.fetch_sub(1, std::memory_order_relaxed);
          spdlog::warn("connection limit ({}) reached; closing a new connection",
                       options_.max_connections);
          beast::error_code ignored;
          socket.close(ignored);
        } else {
          socket.set_option(tcp::no_delay(true), ec);
          auto executor = socket.get_executor();
          asio::post(executor, [connection = std::make_shared<Connection>(
                                    std::move(socket), router_, &options_, &open_connections_,
                                    &unanswered_)] { connection->Start(); });
        }
      }
      Accept();
    });
  }

  const HttpOptions options_;
  const Router* const router_;
  // Declared before the contexts: connections destroyed with a context still update it.
  std::atomic<int> open_connections_{0};
  std::atomic<int> unanswered_{0};
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::optional<tcp::acceptor> acceptor_;
  std::vector<std::thread> threads_;
  std::size_t next_context_ = 0;
  uint16_t port_ = 0;
};

HttpServer::HttpServer(HttpOptions options, const Router* router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() { return impl_->Start(); }

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::StopAccepting() { impl_->StopAccepting(); }

void HttpServer::Stop(std::chrono::milliseconds drain) { impl_->Stop(drain); }

}  // namespace switchyard::http
