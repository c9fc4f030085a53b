#include "core/run_polling.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <optional>
#include <thread>

namespace switchyard {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Posts `count` handlers from another thread, one every `gap`, then lets the context run out of
// work; RunPolling(poll) must run every one of them and then return.
int RunPostedFromAnotherThread(Duration poll, int count, Duration gap) {
  asio::io_context context(1);
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work(
      context.get_executor());
  std::atomic<int> ran{0};
  std::thread poster([&] {
    for (int i = 0; i < count; ++i) {
      std::this_thread::sleep_for(gap);
      asio::post(context, [&ran] { ++ran; });
    }
    asio::post(context, [&work] { work.reset(); });  // out of work once the last has run
  });
  RunPolling(context, poll);
  poster.join();
  return ran.load();
}

TEST(RunPollingTest, SleepingAtOnceRunsEveryHandler) {
  EXPECT_EQ(RunPostedFromAnotherThread(Duration::zero(), 20, 1ms), 20);
}

// Gaps shorter than the poll (handled while polling) and longer (handled after blocking).
TEST(RunPollingTest, PollingRunsEveryHandlerAndReturnsWhenOutOfWork) {
  EXPECT_EQ(RunPostedFromAnotherThread(50ms, 20, 100us), 20);
  EXPECT_EQ(RunPostedFromAnotherThread(200us, 5, 5ms), 5);
}

TEST(RunPollingTest, ReturnsWhenStoppedWhilePolling) {
  asio::io_context context(1);
  auto work = asio::make_work_guard(context);
  std::thread stopper([&] {
    std::this_thread::sleep_for(5ms);
    context.stop();
  });
  RunPolling(context, std::chrono::hours(1));  // would poll for an hour if stop() went unseen
  stopper.join();
  EXPECT_TRUE(context.stopped());
}

}  // namespace
}  // namespace switchyard
