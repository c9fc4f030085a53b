#include "sim_device.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace switchyard::sim {
namespace {

// Jobs of different submitters run one at a time, in submission order: each job's compute
// starts only after the previous job completed.
TEST(SimDeviceTest, RunsJobsOneAfterAnotherInOrder) {
  std::mutex mu;
  std::vector<std::string> log;
  auto record = [&](std::string event) {
    std::lock_guard<std::mutex> lock(mu);
    log.push_back(std::move(event));
  };
  std::promise<void> last_done;
  {
    SimDevice device("GPU0", 2.0);
    EXPECT_EQ(device.speed(), 2.0);
    for (int i = 0; i < 4; ++i) {
      std::string id = (i % 2 == 0 ? "a" : "b") + std::to_string(i);
      device.Submit(
          [&, id] {
            record("compute " + id);
            return std::chrono::microseconds(200);
          },
          [&, id, i] {
            record("complete " + id);
            if (i == 3) last_done.set_value();
          });
    }
    last_done.get_future().wait();
  }
  std::vector<std::string> expected;
  for (const char* id : {"a0", "b1", "a2", "b3"}) {
    expected.push_back(std::string("compute ") + id);
    expected.push_back(std::string("complete ") + id);
  }
  EXPECT_EQ(log, expected);
}

TEST(SimDeviceTest, DestructorFinishesSubmittedJobs) {
  int completed = 0;
  {
    SimDevice device("cpu", 1.0);
    for (int i = 0; i < 3; ++i) {
      device.Submit([] { return Duration(0); }, [&] { ++completed; });
    }
  }
  EXPECT_EQ(completed, 3);
}

}  // namespace
}  // namespace switchyard::sim
