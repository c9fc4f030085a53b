// Progress reports on the host side: the gate that thins them out, and the host function a
// plugin calls (SyHostApi::request_progress) on an in-process batch.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "plugin/host_api.h"
#include "plugin/infer_request_batch.h"
#include "plugin/progress_gate.h"

namespace switchyard::plugin {
namespace {

TEST(ProgressGateTest, LetsThroughTheFirstTheLastAndOnePerInterval) {
  FakeClock clock;
  ProgressGate gate(2, &clock);
  EXPECT_TRUE(gate.Admit(0, 0.1));   // the first
  EXPECT_FALSE(gate.Admit(0, 0.2));  // too soon
  EXPECT_TRUE(gate.Admit(1, 0.2));   // another request has its own interval
  EXPECT_TRUE(gate.Admit(0, 1.0));   // done goes through whenever it comes
  clock.Advance(kMinProgressInterval - std::chrono::milliseconds(1));
  EXPECT_FALSE(gate.Admit(0, 0.3));
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(gate.Admit(0, 0.3));
  EXPECT_FALSE(gate.Admit(2, 0.5));  // no such request
}

class HostProgressTest : public ::testing::Test {
 protected:
  HostProgressTest() {
    config_.name = "m";
    for (int i = 0; i < 2; ++i) {
      requests_.push_back(std::make_unique<InferRequest>());
      ptrs_.push_back(requests_.back().get());
    }
    requests_[0]->progress =
        std::make_shared<const ProgressFn>([this](double fraction, std::string_view message) {
          heard_.emplace_back(fraction, std::string(message));
        });
  }

  // Calls the plugin-facing function, as a plugin would, on a fresh batch (so its gate lets
  // the first report of each request through: thinning is ProgressGateTest's).
  void Report(uint32_t request, double fraction, const char* message) {
    InferRequestBatch batch(&config_, ptrs_);
    SyBatch handle{&batch};
    HostApi()->request_progress(&handle, request, fraction, message);
  }

  ModelConfig config_;
  std::vector<std::unique_ptr<InferRequest>> requests_;
  std::vector<InferRequest*> ptrs_;
  std::vector<std::pair<double, std::string>> heard_;
};

TEST_F(HostProgressTest, ReachesTheRequestsFollowerClampedAndCut) {
  Report(0, 0.5, "half");
  Report(0, 2.0, nullptr);         // clamped; no message
  Report(0, -1.0, "");             // clamped
  Report(0, std::nan(""), "nan");  // ignored
  Report(1, 0.5, "no follower");   // nobody listens: nothing happens
  Report(7, 0.5, "out of range");  // ignored
  const std::string long_text = std::string(1023, 'a') + "\xC3\xA9" + "tail";  // é at 1023
  Report(0, 0.75, long_text.c_str());
  ASSERT_EQ(heard_.size(), 4u);
  EXPECT_EQ(heard_[0], (std::pair<double, std::string>{0.5, "half"}));
  EXPECT_EQ(heard_[1], (std::pair<double, std::string>{1.0, ""}));
  EXPECT_EQ(heard_[2], (std::pair<double, std::string>{0.0, ""}));
  EXPECT_EQ(heard_[3].first, 0.75);
  EXPECT_EQ(heard_[3].second, std::string(1023, 'a'));  // cut before the split character
}

}  // namespace
}  // namespace switchyard::plugin
