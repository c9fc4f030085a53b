#include "bench/client_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <thread>
#include <vector>

#include "bench/open_loop.h"
#include "core/mutex.h"
#include "fmt/format.h"

namespace switchyard::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A blocking HTTP server on 127.0.0.1: one thread per connection, answering each connection's
// requests alternately 200 and 429. Counts connections and remembers the first request.
class AlternatingServer {
 public:
  AlternatingServer() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~AlternatingServer() {
    stopping_ = true;
    tcp::socket wake(io_);
    beast::error_code ignored;
    wake.connect(acceptor_.local_endpoint(), ignored);
    accept_thread_.join();
    for (auto& worker : workers_) worker.join();
  }

  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }
  int accepted() const { return accepted_.load(); }
  uint64_t answered() const { return answered_.load(); }
  std::string first_request() {
    MutexLock lock(&mu_);
    return first_request_;
  }

 private:
  void AcceptLoop() {
    while (true) {
      tcp::socket socket(io_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      ++accepted_;
      workers_.emplace_back([this, s = std::move(socket)]() mutable { Serve(std::move(s)); });
    }
  }

  void Serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    for (unsigned n = 0;; ++n) {
      http::request<http::string_body> request;
      beast::error_code ec;
      http::read(socket, buffer, request, ec);
      if (ec) return;
      {
        MutexLock lock(&mu_);
        if (first_request_.empty()) {
          first_request_ = fmt::format(
              "{} {} {} {}", std::string(request.method_string()), std::string(request.target()),
              std::string(request["Inference-Header-Content-Length"]), request.body());
        }
      }
      http::response<http::string_body> response(
          n % 2 == 0 ? http::status::ok : http::status::too_many_requests, 11);
      response.body() = "{}";
      response.prepare_payload();
      ++answered_;  // before the write, so that it never lags what the client saw
      http::write(socket, response, ec);
      if (ec) return;
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<uint64_t> answered_{0};
  std::thread accept_thread_;
  std::vector<std::thread> workers_;  // touched by the accept thread, then by the destructor
  Mutex mu_;
  std::string first_request_ GUARDED_BY(mu_);
};

// Waits (polling) until the pool has seen `count` answers; false after a minute.
bool WaitForAnswers(const ClientPool& pool, uint64_t count) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (std::chrono::steady_clock::now() < deadline) {
    ProgressTotals totals = pool.Totals();
    if (totals.successes + totals.errors >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// Run with client threads that sleep at once and with threads that poll (bench --poll-us): the
// pool must send, count and stop alike.
class ClosedLoopTest : public testing::TestWithParam<Duration> {};

TEST_P(ClosedLoopTest, KeepsConnectionsAliveAndCountsStatuses) {
  AlternatingServer server;
  PoolConfig config;
  config.address = {"127.0.0.1", server.port()};
  config.target = "/v2/models/m/infer";
  for (int i = 0; i < 4; ++i) config.bodies.push_back({"{\"x\":1}XYZ", 7});
  config.items_per_request = 3;
  config.threads = 2;
  config.poll = GetParam();
  config.arrivals = ClosedLoop::Factory();
  auto pool = ClientPool::Start(std::move(config));
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  ASSERT_TRUE(WaitForAnswers(**pool, 400));
  (*pool)->Stop();  // joins the client threads, polling or not
  WindowCounters counters = (*pool)->TakeWindow();

  EXPECT_EQ(server.accepted(), 4);  // one keep-alive connection per client, never reopened
  EXPECT_EQ(server.first_request(), "POST /v2/models/m/infer 7 {\"x\":1}XYZ");
  EXPECT_EQ(counters.connection_errors, 0u);
  ASSERT_EQ(counters.http_errors.size(), 1u);
  uint64_t refused = counters.http_errors[429];
  // Each connection alternates 200, 429, 200, ...: successes lead by at most one per connection.
  EXPECT_GE(counters.successes, refused);
  EXPECT_LE(counters.successes, refused + 4);
  EXPECT_GE(counters.successes + refused, 400u);
  EXPECT_LE(counters.successes + refused, server.answered());
  EXPECT_EQ(counters.latency_ns.count(), counters.successes);
  EXPECT_EQ(counters.items, 3 * counters.successes);
}

INSTANTIATE_TEST_SUITE_P(SleepingAndPolling, ClosedLoopTest,
                         testing::Values(Duration::zero(),
                                         Duration(std::chrono::milliseconds(50))));

TEST(ClientPoolTest, UnreachableServerCountsConnectionErrors) {
  uint16_t port;
  {
    asio::io_context io;
    tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }  // closed again: nothing listens there now
  PoolConfig config;
  config.address = {"127.0.0.1", std::to_string(port)};
  config.target = "/v2/models/m/infer";
  config.bodies.push_back({"{}", 0});
  config.arrivals = ClosedLoop::Factory();
  auto pool = ClientPool::Start(std::move(config));
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE(WaitForAnswers(**pool, 3));
  (*pool)->Stop();
  WindowCounters counters = (*pool)->TakeWindow();
  EXPECT_EQ(counters.successes, 0u);
  EXPECT_GE(counters.connection_errors, 3u);
  EXPECT_NE(counters.first_connection_error.find("connect"), std::string::npos);
}

// Ten arrivals all due at once on two connections: two go at once, eight wait for a connection
// and are counted late; all ten are sent and answered, and the replay then finishes.
TEST(ClientPoolTest, OpenLoopCountsLateArrivalsAndAnswersEveryOne) {
  AlternatingServer server;
  PoolConfig config;
  config.address = {"127.0.0.1", server.port()};
  config.target = "/v2/models/m/infer";
  for (int i = 0; i < 2; ++i) config.bodies.push_back({"{}", 0});
  config.threads = 1;
  config.arrivals = OpenLoop::Factory({ArrivalKind::kList, 0, 0, std::vector<Duration>(10)});
  auto pool = ClientPool::Start(std::move(config));
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE(WaitForAnswers(**pool, 10));
  EXPECT_TRUE((*pool)->Finished());
  (*pool)->Stop();
  ProgressTotals totals = (*pool)->Totals();
  EXPECT_EQ(totals.sent, 10u);
  EXPECT_EQ(totals.late, 8u);
  EXPECT_EQ(totals.answered, 10u);
  EXPECT_EQ((*pool)->Backlog(), 0);
  WindowCounters counters = (*pool)->TakeWindow();
  EXPECT_EQ(counters.sent, 10u);
  EXPECT_EQ(counters.late, 8u);
  EXPECT_EQ(counters.send_lag_ns.count(), 10u);
  EXPECT_EQ(counters.successes + counters.http_errors[429], 10u);
  EXPECT_EQ(counters.http_error_latency_ns[429].count(), counters.http_errors[429]);
  EXPECT_EQ(counters.service_ns_by_status[200].count(), counters.successes);
  EXPECT_EQ(counters.service_ns_by_status[429].count(), counters.http_errors[429]);
  EXPECT_EQ(server.accepted(), 2);
}

}  // namespace
}  // namespace switchyard::bench
