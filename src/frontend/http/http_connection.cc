#include "frontend/http/http_connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <charconv>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "fmt/format.h"
#include "frontend/http/kserve_codec.h"
#include "frontend/http/reply_head.h"
#include "frontend/http/request_parser.h"
#include "spdlog/spdlog.h"

namespace switchyard::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

Method ToMethod(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::delete_:
      return Method::kDelete;
    default:
      return Method::kOther;
  }
}

// One client connection (see http_connection.h). Reads one request at a time and answers it
// before reading the next, so pipelined requests are answered in order. While a request is
// pending it watches the socket so a client that goes away cancels its queued work. What it holds
// of request bodies and replies is charged to the server's MemoryBudget until the reply is
// written. `Stream` is beast::tcp_stream (plaintext) or TlsStream; the TLS steps are
// `if constexpr`, so the plaintext instantiation is the code it always was.
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  static constexpr std::size_t kLargeRead = 256 << 10;   // read size for large bodies
  static constexpr std::size_t kSmallBuffer = 16 << 10;  // kept by an idle connection
  static constexpr std::size_t kDirectBody = 1 << 10;    // smallest body read directly

  // `stream_args` construct the stream: the socket, and for TLS the ssl::context.
  template <class... StreamArgs>
  explicit Connection(const ConnectionShared& shared, StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...),
        // The buffer holds at most a header (or a trailer section) and one large read.
        buffer_(shared.options->max_header_bytes + kLargeRead),
        router_(shared.router),
        options_(shared.options),
        charge_(shared.budget),
        open_connections_(shared.open_connections),
        unanswered_(shared.unanswered) {
    beast::error_code ec;
    auto peer = lowest().socket().remote_endpoint(ec).address();
    peer_loopback_ = !ec && (peer.is_loopback() || (peer.is_v6() && peer.to_v6().is_v4_mapped() &&
                                                    peer.to_v6().to_v4().is_loopback()));
  }

  ~Connection() { open_connections_->fetch_sub(1, std::memory_order_relaxed); }

  void Start() {
    if constexpr (kTls) {
      // The handshake has the time a request has to arrive; a client that sends nothing, or
      // plaintext, is closed.
      lowest().expires_after(std::chrono::seconds(options_->idle_timeout_s));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  spdlog::debug("TLS handshake failed: {}", ec.message());
                                  return self->Close();
                                }
                                self->ReadRequest();
                              });
    } else {
      ReadRequest();
    }
  }

 private:
  // The TCP stream under any TLS layer: timeouts and the socket itself.
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

 private:
  void ReadRequest() {
    direct_body_.reset();
    parser_.emplace(options_->max_header_bytes, options_->max_body_bytes, &charge_);
    lowest().expires_after(std::chrono::seconds(options_->idle_timeout_s));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               self->OnHeader(ec);
                             });
  }

  // A client that sent `Expect: 100-continue` (curl does for bodies over 1 MiB) waits for a
  // "100 Continue" before it sends the body; it gets one unless the body is over the limit (then
  // the 413 comes at once).
  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    const auto& header = parser_->header();
    auto expect = header[bhttp::field::expect];
    auto length = parser_->content_length();
    if (header.version() >= 11 && beast::iequals(expect, "100-continue")) {
      if (length && *length > options_->max_body_bytes) return SendBodyTooLarge();
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return asio::async_write(
          stream_, asio::buffer(kContinue.data(), kContinue.size()),
          [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->Close();
            self->ReadBody();
          });
    }
    ReadBody();
  }

  // A POST body of known length from kDirectBody bytes up, for a model whose workers read their
  // inputs from shared memory, is received straight into a block of the model's body pool. Other
  // bodies go through the parser, which grows them as their bytes arrive. Beast's parser reads
  // at most what the buffer has room for, so a buffer that never grew would read a large body
  // ~1 KB per recv: a large body gets a buffer of kLargeRead for its reading; it is given back
  // once the request is read, so idle connections stay small.
  void ReadBody() {
    auto length = parser_->content_length();
    const auto& header = parser_->header();
    if (length && *length >= kDirectBody && *length <= options_->max_body_bytes &&
        header.method() == bhttp::verb::post) {
      std::size_t json_length = 0;
      if (auto it = header.find("Inference-Header-Content-Length"); it != header.end()) {
        auto text = it->value();
        std::from_chars(text.data(), text.data() + text.size(), json_length);
      }
      auto target = header.target();
      direct_body_ =
          router_->NewSharedBody({target.data(), target.size()}, static_cast<std::size_t>(*length),
                                 std::min<std::size_t>(json_length, *length));
      if (direct_body_) return ReadDirectBody(0);
    }
    if (length && *length > buffer_.capacity()) {
      buffer_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*length, kLargeRead)));
    }
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  // Moves what the buffer already holds of the body into direct_body_, then reads the rest from
  // the socket into it, at most kLargeRead at a time, charging what arrives to the budget.
  void ReadDirectBody(std::size_t have) {
    std::span<std::byte> into = direct_body_->body.mutable_bytes();
    std::size_t got =
        asio::buffer_copy(asio::buffer(into.data() + have, into.size() - have), buffer_.data());
    buffer_.consume(got);
    if (got > kSmallBuffer && !charge_.TryAdd(got)) return SendOverBudget();
    have += got;
    if (have == into.size()) return OnRead({});
    std::size_t step = std::min(into.size() - have, kLargeRead);
    stream_.async_read_some(
        asio::buffer(into.data() + have, step),
        [self = this->shared_from_this(), have](beast::error_code ec, std::size_t n) {
          if (ec) return self->OnRead(ec);
          if (!self->charge_.TryAdd(n)) return self->SendOverBudget();
          self->ReadDirectBody(have + n);
        });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return Close();
    }
    if constexpr (kTls) {  // a broken TLS stream (or one cut without close_notify): no reply
      if (ec == asio::ssl::error::stream_truncated ||
          ec.category() == asio::error::get_ssl_category()) {
        return Close();
      }
    }
    if (const auto& rejection = parser_->rejection()) {
      if (rejection->status == 503) return SendOverBudget();
      return SendError(rejection->status, rejection->message);
    }
    if (ec == bhttp::error::body_limit) return SendBodyTooLarge();
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      return SendError(431, fmt::format("request header or trailer too large: the limit is {} "
                                        "bytes, and 64 KiB for one field",
                                        options_->max_header_bytes));
    }
    if (ec) return SendError(400, fmt::format("malformed HTTP request: {}", ec.message()));

    auto& header = parser_->header();
    if (buffer_.capacity() > kSmallBuffer && buffer_.size() == 0) buffer_.shrink_to_fit();
    keep_alive_ = parser_->keep_alive();
    version_ = header.version();
    head_ = header.method() == bhttp::verb::head;
    HttpRequest request;
    request.method = ToMethod(header.method());
    request.target = std::string(header.target());
    if (auto it = header.find("Inference-Header-Content-Length"); it != header.end()) {
      request.inference_header_length = std::string(it->value());
    }
    if (auto it = header.find(bhttp::field::authorization); it != header.end()) {
      request.authorization = std::string(it->value());
    }
    if (auto it = header.find(bhttp::field::content_type); it != header.end()) {
      request.content_type = std::string(it->value());
    }
    if (request.method == Method::kPost) {  // the headers only a submit reads
      if (auto it = header.find("Prefer"); it != header.end()) {
        request.prefer = std::string(it->value());
      }
      if (auto it = header.find("Idempotency-Key"); it != header.end()) {
        request.idempotency_key = std::string(it->value());
      }
      if (auto it = header.find(bhttp::field::accept); it != header.end()) {
        request.accept = std::string(it->value());
      }
      if (auto it = header.find("endpoint-load-metrics-format"); it != header.end()) {
        request.load_report_format = std::string(it->value());
      }
    }
    request.peer_loopback = peer_loopback_;
    if (direct_body_) {
      request.body = std::move(direct_body_->body);
      request.model = std::move(direct_body_->model);
      direct_body_.reset();
    } else {
      request.body = std::move(parser_->body());
    }
    cancel_ = std::make_shared<CancelToken>();
    request.cancel = cancel_;
    lowest().expires_never();  // a request may run as long as its model takes
    unanswered_->fetch_add(1, std::memory_order_relaxed);
    ++pending_generation_;
    WatchForDisconnect();
    // The reply callback gives up its hold on the connection when it is called: whoever stores
    // the callback (a scheduler's batch) may destroy it later, on its own thread, after the
    // server is gone, and must not be the one to destroy the connection then.
    router_->Handle(std::move(request), [self = this->shared_from_this()](HttpReply reply) mutable {
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
  // Over TLS the peek sees records, not requests: a client that sends close_notify before it
  // closes looks like one that pipelines, and its request runs to the end (one that just closes
  // is seen, as in plaintext).
  void WatchForDisconnect() {
    uint64_t generation = pending_generation_;
    lowest().socket().async_wait(tcp::socket::wait_read, [self = this->shared_from_this(),
                                                          generation](beast::error_code ec) {
      if (ec || generation != self->pending_generation_ || self->cancel_ == nullptr) return;
      char byte;
      ssize_t n =
          ::recv(self->lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        self->cancel_->Cancel();
      }
    });
  }

  void SendBodyTooLarge() {
    SendError(413, fmt::format("request body larger than the limit of {} bytes",
                               options_->max_body_bytes));
  }

  // The body would pass the server's memory budget: refused before it is held, as a full queue
  // is (429 with Retry-After): the server is busy, not out of service, so a balancer must not
  // take it out of the pool.
  void SendOverBudget() {
    HttpReply reply = ErrorReply(
        ResourceExhausted("the server holds as much request data as its memory budget allows "
                          "(--max-buffered-mb); retry later"));
    reply.close = true;
    keep_alive_ = false;
    direct_body_.reset();
    Send(std::move(reply));
  }

  void SendError(unsigned status, const std::string& message) {
    HttpReply reply;
    reply.status = status;
    reply.body = ErrorJson(message);
    reply.close = true;
    keep_alive_ = false;
    Send(std::move(reply));
  }

  // Writes `reply` (its head by WriteReplyHead, its body, then its tail buffers from where they
  // lie, in one gathered write), then reads the next request or closes. The reply is kept in the
  // connection until it is written; its memory (and the outputs its tail owns) goes then.
  void Send(HttpReply reply) {
    ++pending_generation_;  // the disconnect watch of this request is over
    const bool routed = cancel_ != nullptr;
    cancel_.reset();
    if (reply.stream != nullptr && head_) {  // HEAD: the head only; nothing is produced
      reply.stream->ClientGone();
      reply.stream.reset();
    }
    const bool streaming = reply.stream != nullptr;
    const bool keep = keep_alive_ && !reply.close && !streaming;
    std::size_t length = reply.body.size();
    for (const auto& part : reply.body_tail) length += part.size();
    if (length > kSmallBuffer) charge_.ForceAdd(length);
    reply_ = std::move(reply);
    WriteReplyHead(reply_, version_ == 10 ? 0 : 1, keep,
                   streaming ? std::nullopt : std::optional<std::size_t>(length), &reply_head_);
    lowest().expires_after(std::chrono::seconds(options_->write_timeout_s));
    auto written = [self = this->shared_from_this(), keep, routed, streaming](beast::error_code ec,
                                                                              std::size_t) {
      if (routed) self->unanswered_->fetch_sub(1, std::memory_order_relaxed);
      self->charge_.Clear();  // the request's body and this reply are no longer held
      self->reply_.body_tail.clear();
      self->reply_.tail_owner.reset();
      if (self->reply_.body.capacity() > kSmallBuffer) self->reply_.body = std::string();
      if (streaming && !ec) return self->StreamBody();
      if (streaming) self->reply_.stream->ClientGone();
      if (ec) return self->Close();
      if (!keep) return self->Finish();
      self->ReadRequest();
    };
    const asio::const_buffer head(reply_head_.data(), reply_head_.size());
    if (head_) return asio::async_write(stream_, head, std::move(written));
    const asio::const_buffer body(reply_.body.data(), reply_.body.size());
    if (reply_.body_tail.empty()) {
      return asio::async_write(stream_, std::array<asio::const_buffer, 2>{head, body},
                               std::move(written));
    }
    std::vector<asio::const_buffer> buffers{head, body};
    for (const auto& part : reply_.body_tail) buffers.emplace_back(part.data(), part.size());
    asio::async_write(stream_, std::move(buffers), std::move(written));
  }

  // After the head: sends what the reply's stream produces as it comes, and closes once the
  // stream has ended and all of it is sent, or the client went away.
  void StreamBody() {
    lowest().expires_never();  // between chunks the connection waits as long as the producer
    lowest().socket().async_wait(
        tcp::socket::wait_read, [self = this->shared_from_this()](beast::error_code ec) {
          char byte;
          ssize_t n =
              ::recv(self->lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
          if (self->reply_.stream == nullptr || (!ec && n != 0 && (n > 0 || errno == EAGAIN)))
            return;
          self->reply_.stream->ClientGone();  // it closed (or the socket failed)
          self->Close();
        });
    reply_.stream->Attach([weak = this->weak_from_this()] {
      if (auto self = weak.lock()) {
        asio::post(self->stream_.get_executor(), [self] { self->WriteStreamed(); });
      }
    });
  }

  void WriteStreamed() {
    if (reply_.stream == nullptr || writing_stream_) return;  // a write's end looks again
    bool ended = false;
    stream_chunk_ = reply_.stream->Take(&ended);
    if (stream_chunk_.empty()) {
      if (ended) {
        reply_.stream.reset();
        Finish();
      }
      return;
    }
    writing_stream_ = true;
    lowest().expires_after(std::chrono::seconds(options_->write_timeout_s));
    asio::async_write(stream_, asio::buffer(stream_chunk_),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        self->writing_stream_ = false;
                        if (self->reply_.stream == nullptr) return;
                        if (ec) {
                          self->reply_.stream->ClientGone();
                          self->reply_.stream.reset();
                          return self->Close();
                        }
                        self->lowest().expires_never();
                        self->WriteStreamed();
                      });
  }

  // Ends the connection after its last reply was written. Over TLS a close_notify goes first, so
  // that a client can tell a reply that ends with the connection (a stream of events) from one
  // cut short; the client's answer is awaited for at most the write timeout.
  void Finish() {
    if constexpr (kTls) {
      lowest().expires_after(std::chrono::seconds(options_->write_timeout_s));
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->Close(); });
    } else {
      Close();
    }
  }

  // Closes the socket at once (an error, a timeout, a client gone).
  void Close() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().socket().close(ignored);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  // The body being received outside the parser (after the header), if it is.
  std::optional<Router::SharedBody> direct_body_;
  const Router* const router_;
  const HttpOptions* const options_;
  MemoryCharge charge_;  // the current request's body and reply
  bool peer_loopback_ = false;
  std::atomic<int>* const open_connections_;
  std::atomic<int>* const unanswered_;   // requests routed whose reply is not yet written
  std::shared_ptr<CancelToken> cancel_;  // set while a routed request awaits its reply
  HttpReply reply_;                      // the reply being written
  std::string stream_chunk_;             // the part of a streamed body being written
  bool writing_stream_ = false;
  std::string reply_head_;  // its status line and headers
  uint64_t pending_generation_ = 0;
  bool keep_alive_ = true;
  bool head_ = false;
  unsigned version_ = 11;
};

// beast's ssl_stream coalesces a gathered write (a reply's head, body and tail) into one TLS
// record stream instead of a record per buffer.
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

}  // namespace

void ServeConnection(tcp::socket socket, const ConnectionShared& shared) {
  std::make_shared<Connection<beast::tcp_stream>>(shared, std::move(socket))->Start();
}

void ServeTlsConnection(tcp::socket socket, asio::ssl::context* tls,
                        const ConnectionShared& shared) {
  std::make_shared<Connection<TlsStream>>(shared, beast::tcp_stream(std::move(socket)), *tls)
      ->Start();
}

}  // namespace switchyard::http
