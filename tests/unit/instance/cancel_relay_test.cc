#include "instance/cancel_relay.h"

#include <gtest/gtest.h>

#include <array>

namespace switchyard {
namespace {

TEST(CancelRelayTest, TokensWriteTheirFlagsUntilStopped) {
  std::array<InferRequest, 4> requests;
  for (int i = 0; i < 3; ++i) requests[i].cancel = std::make_shared<CancelToken>();
  // requests[3] has no token: it is never cancelled.
  std::array<InferRequest*, 4> batch = {&requests[0], &requests[1], &requests[2], &requests[3]};
  requests[0].cancel->Cancel();  // before the batch: recorded at once
  auto relay = CancelRelay::Create(batch);
  requests[1].cancel->Expire();  // before the flags are known: recorded
  std::array<std::byte, 4> flags{};
  relay->SetFlags(flags.data());
  EXPECT_EQ(flags[0], std::byte{SY_CANCELLED_CLIENT_GONE});
  EXPECT_EQ(flags[1], std::byte{SY_CANCELLED_DEADLINE});
  EXPECT_EQ(flags[2], std::byte{SY_NOT_CANCELLED});
  requests[2].cancel->Cancel();  // while executing: written at once
  EXPECT_EQ(flags[2], std::byte{SY_CANCELLED_CLIENT_GONE});
  relay->Stop();
  // After Stop the slot belongs to the next batch: nothing is written any more.
  flags = {};
  requests[1].cancel->Cancel();
  auto another = std::make_shared<CancelToken>();
  requests[2].cancel = another;
  EXPECT_EQ(flags, (std::array<std::byte, 4>{}));
  relay->Stop();  // idempotent
}

TEST(CancelRelayTest, StopClearsTheTokensNotifiers) {
  InferRequest request;
  request.cancel = std::make_shared<CancelToken>();
  std::array<InferRequest*, 1> batch = {&request};
  auto relay = CancelRelay::Create(batch);
  relay->Stop();
  int heard = 0;
  request.cancel->SetNotifier([&] { ++heard; });  // the next holder's notifier
  request.cancel->Cancel();
  EXPECT_EQ(heard, 1);
}

TEST(CancelRelayTest, TheRelayMayGoBeforeItsTokens) {
  InferRequest request;
  request.cancel = std::make_shared<CancelToken>();
  std::array<InferRequest*, 1> batch = {&request};
  std::array<std::byte, 1> flags{};
  {
    auto relay = CancelRelay::Create(batch);
    relay->SetFlags(flags.data());
  }  // gone without Stop (its notifier holds only a weak pointer)
  request.cancel->Cancel();
  EXPECT_EQ(flags[0], std::byte{SY_NOT_CANCELLED});
}

}  // namespace
}  // namespace switchyard
