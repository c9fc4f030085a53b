#include "frontend/http/http_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core.hpp>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "core/run_polling.h"
#include "core/thread_name.h"
#include "fmt/format.h"
#include "frontend/http/http_connection.h"
#include "frontend/http/memory_budget.h"
#include "frontend/http/tls_config.h"
#include "spdlog/spdlog.h"
#include "switchyard/clock.h"

namespace switchyard::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

class HttpServer::Impl {
 public:
  Impl(HttpOptions options, const Router* router)
      : options_(std::move(options)), router_(router), budget_(options_.max_buffered_bytes) {
    int threads = options_.threads > 0 ? options_.threads
                                       : static_cast<int>(std::thread::hardware_concurrency());
    for (int i = 0; i < std::max(1, threads); ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
    }
    acceptor_.emplace(*contexts_[0]);
    accept_backoff_timer_.emplace(*contexts_[0]);
  }

  Status Start() {
    if (options_.tls) {
      auto context = NewServerSslContext(*options_.tls);
      if (!context.ok()) return context.status();
      // asio's context takes the SSL_CTX over (and frees it).
      tls_.emplace(context->release());
    }
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec)
      return InvalidArgument(fmt::format("invalid host '{}': {}", options_.host, ec.message()));
    tcp::endpoint endpoint(address, options_.port);
    protocol_ = endpoint.protocol();
    // Opened close-on-exec from the start, so no worker spawned meanwhile inherits it.
    int fd = ::socket(protocol_.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) ec.assign(errno, beast::system_category());
    if (!ec) acceptor_->assign(protocol_, fd, ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) acceptor_->non_blocking(true, ec);
    if (ec) {
      if (fd >= 0 && !acceptor_->is_open()) ::close(fd);
      return Unavailable(
          fmt::format("cannot listen on {}:{}: {}", options_.host, options_.port, ec.message()));
    }
    port_ = acceptor_->local_endpoint().port();
    asio::post(*contexts_[0], [this] { AcceptReady(); });
    for (auto& context : contexts_) {
      guards_.emplace_back(asio::make_work_guard(*context));
      threads_.emplace_back([ctx = context.get(), i = threads_.size(), poll = options_.poll] {
        NameThisThread("sy-http-" + std::to_string(i));
        RunUntilStopped(*ctx, poll);
      });
    }
    return Status::Ok();
  }

  uint16_t port() const { return port_; }

  void StopAccepting() {
    asio::post(*contexts_[0], [this] {
      beast::error_code ignored;
      accept_backoff_timer_->cancel();
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
  // An I/O thread's loop. A handler that throws (none should: a client's bytes are answered with
  // errors, not exceptions) loses its connection, not the server.
  static void RunUntilStopped(asio::io_context& context, Duration poll) {
    while (true) {
      try {
        RunPolling(context, poll);
        return;
      } catch (const std::exception& e) {
        spdlog::error("HTTP I/O thread: a handler threw ({}); its connection is dropped", e.what());
      }
    }
  }

  // Accepts every connection waiting (accept4: close-on-exec atomically), then makes sure a wait
  // for the next is armed. Out of descriptors (EMFILE, ENFILE) or memory, it logs and retries
  // with a backoff doubling from 10 ms to 1 s instead of spinning; the connections wait in the
  // listen backlog meanwhile. Runs on the first I/O thread only.
  void AcceptReady() {
    while (acceptor_->is_open()) {
      int fd =
          ::accept4(acceptor_->native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        accept_backoff_ = std::chrono::milliseconds(0);
        Admit(fd);
        continue;
      }
      const int error = errno;
      if (error == EINTR || error == ECONNABORTED || error == EPROTO) continue;
      if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
        accept_backoff_ = std::clamp(accept_backoff_ * 2, std::chrono::milliseconds(10),
                                     std::chrono::milliseconds(1000));
        if (!accept_starved_) {
          spdlog::warn(
              "cannot accept connections: {} (open connections {}; raise `ulimit -n` or lower "
              "--max-connections); retrying with backoff",
              std::strerror(error), open_connections_.load());
        }
        accept_starved_ = true;
        accept_backoff_timer_->expires_after(accept_backoff_);
        accept_backoff_timer_->async_wait([this](beast::error_code ec) {
          if (!ec) AcceptReady();
        });
        return;
      }
      if (error != EAGAIN && error != EWOULDBLOCK) {
        spdlog::warn("accept failed: {}", std::strerror(error));
      }
      if (!wait_armed_) {
        wait_armed_ = true;
        acceptor_->async_wait(tcp::acceptor::wait_read, [this](beast::error_code ec) {
          wait_armed_ = false;
          if (ec != asio::error::operation_aborted) AcceptReady();
        });
        // asio's epoll is edge-triggered: a connection that arrived after the accept above and
        // before the wait was armed would not wake it. Look once more.
        asio::post(*contexts_[0], [this] { AcceptReady(); });
      }
      return;
    }
  }

  void Admit(int fd) {
    if (accept_starved_) {
      spdlog::info("accepting connections again");
      accept_starved_ = false;
    }
    if (open_connections_.fetch_add(1, std::memory_order_relaxed) >= options_.max_connections) {
      open_connections_.fetch_sub(1, std::memory_order_relaxed);
      spdlog::warn("connection limit ({}) reached; closing a new connection",
                   options_.max_connections);
      ::close(fd);
      return;
    }
    asio::io_context& target = *contexts_[next_context_++ % contexts_.size()];
    tcp::socket socket(target);
    beast::error_code ec;
    socket.assign(protocol_, fd, ec);
    if (ec) {
      ::close(fd);
      open_connections_.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    const ConnectionShared shared{.router = router_,
                                  .options = &options_,
                                  .budget = &budget_,
                                  .open_connections = &open_connections_,
                                  .unanswered = &unanswered_};
    if (tls_) {
      // The TLS state is made on the connection's own thread, not the accepting one.
      asio::post(target, [socket = std::move(socket), shared, tls = &*tls_]() mutable {
        ServeTlsConnection(std::move(socket), tls, shared);
      });
      return;
    }
    asio::post(target, [socket = std::move(socket), shared]() mutable {
      ServeConnection(std::move(socket), shared);
    });
  }

  const HttpOptions options_;
  const Router* const router_;
  MemoryBudget budget_;
  // Set by Start with TLS; declared before the contexts: connections use it until destroyed.
  std::optional<asio::ssl::context> tls_;
  // Declared before the contexts: connections destroyed with a context still update it.
  std::atomic<int> open_connections_{0};
  std::atomic<int> unanswered_{0};
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::steady_timer> accept_backoff_timer_;
  std::chrono::milliseconds accept_backoff_{0};
  bool accept_starved_ = false;  // the last accept ran out of descriptors or memory
  bool wait_armed_ = false;      // an async_wait for new connections is pending
  tcp protocol_ = tcp::v4();
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
