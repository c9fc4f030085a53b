// Partial responses on the host side: the checks on what a plugin sends
// (CheckPartialOutputs), and the host function (SyHostApi::request_send_partial) on an in-process
// batch, which copies what it passes on and drops what nobody takes.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "plugin/host_api.h"
#include "plugin/infer_request_batch.h"
#include "plugin/partial_outputs.h"

namespace switchyard::plugin {
namespace {

class PartialResponseTest : public ::testing::Test {
 protected:
  PartialResponseTest() {
    config_.name = "m";
    config_.outputs = {{.name = "y", .datatype = DataType::kInt32, .dims = {2}},
                       {.name = "text", .datatype = DataType::kBytes, .dims = {1}}};
    for (int i = 0; i < 2; ++i) {
      requests_.push_back(std::make_unique<InferRequest>());
      ptrs_.push_back(requests_.back().get());
    }
    requests_[0]->partial = std::make_shared<PartialResponses>(
        [this](std::vector<Tensor> outputs) { taken_.push_back(std::move(outputs)); });
  }

  // Sends outputs for `request` as a plugin would; returns the error's message ("" if none).
  std::string Send(uint32_t request, const std::vector<SyOutput>& outputs) {
    InferRequestBatch batch(&config_, ptrs_);
    SyBatch handle{&batch};
    SyError* error = HostApi()->request_send_partial(&handle, request, outputs.data(),
                                                     static_cast<uint32_t>(outputs.size()));
    return TakeError(error).message();
  }

  ModelConfig config_;
  std::vector<std::unique_ptr<InferRequest>> requests_;
  std::vector<InferRequest*> ptrs_;
  std::vector<std::vector<Tensor>> taken_;
  const int64_t two_[1] = {2};
  const int64_t one_[1] = {1};
  const int32_t values_[2] = {7, -7};
};

TEST_F(PartialResponseTest, ThePluginsOutputsReachTheFollowerAsCopiesInOrder) {
  std::vector<std::byte> text;
  AppendBytesElement("hi", text);
  EXPECT_EQ(Send(0, {{.output = 1,
                      .shape = one_,
                      .dim_count = 1,
                      .data = text.data(),
                      .byte_size = text.size()},
                     {.output = 0,
                      .shape = two_,
                      .dim_count = 1,
                      .data = values_,
                      .byte_size = sizeof(values_)}}),
            "");
  EXPECT_EQ(Send(0, {}), "");  // an empty partial response is still one
  ASSERT_EQ(taken_.size(), 2u);
  ASSERT_EQ(taken_[0].size(), 2u);
  EXPECT_EQ(taken_[0][0].name, "text");
  EXPECT_EQ(taken_[0][0].datatype, DataType::kBytes);
  EXPECT_EQ(taken_[0][1].name, "y");
  EXPECT_EQ(taken_[0][1].shape, Shape{2});
  ASSERT_EQ(taken_[0][1].data.size(), sizeof(values_));
  EXPECT_EQ(std::memcmp(taken_[0][1].data.bytes().data(), values_, sizeof(values_)), 0);
  EXPECT_NE(taken_[0][1].data.bytes().data(), reinterpret_cast<const std::byte*>(values_));
  EXPECT_TRUE(taken_[1].empty());
  EXPECT_TRUE(requests_[0]->partial->any_sent());
}

TEST_F(PartialResponseTest, OutputsTheClientDidNotAskForAreLeftOut) {
  requests_[0]->output_indices = {1};
  const std::vector<std::byte> text = [] {
    std::vector<std::byte> bytes;
    AppendBytesElement("x", bytes);
    return bytes;
  }();
  EXPECT_EQ(Send(0, {{.output = 0,
                      .shape = two_,
                      .dim_count = 1,
                      .data = values_,
                      .byte_size = sizeof(values_)},
                     {.output = 1,
                      .shape = one_,
                      .dim_count = 1,
                      .data = text.data(),
                      .byte_size = text.size()}}),
            "");
  ASSERT_EQ(taken_.size(), 1u);
  ASSERT_EQ(taken_[0].size(), 1u);
  EXPECT_EQ(taken_[0][0].name, "text");
}

TEST_F(PartialResponseTest, MalformedResponsesAreRefusedEvenWhenNobodyTakesThem) {
  for (uint32_t request : {0u, 1u}) {
    SCOPED_TRACE(request);
    EXPECT_NE(Send(request, {{.output = 2,
                              .shape = two_,
                              .dim_count = 1,
                              .data = values_,
                              .byte_size = sizeof(values_)}})
                  .find("has no output 2"),
              std::string::npos);
    const SyOutput y{
        .output = 0, .shape = two_, .dim_count = 1, .data = values_, .byte_size = sizeof(values_)};
    EXPECT_NE(Send(request, {y, y}).find("'y' is given twice"), std::string::npos);
    EXPECT_NE(Send(request,
                   {{.output = 0, .shape = two_, .dim_count = 1, .data = values_, .byte_size = 4}})
                  .find("do not fit"),
              std::string::npos);
    const uint32_t bad_length = 99;  // a BYTES element claiming more than there is
    EXPECT_NE(Send(request, {{.output = 1,
                              .shape = one_,
                              .dim_count = 1,
                              .data = &bad_length,
                              .byte_size = sizeof(bad_length)}}),
              "");
    EXPECT_NE(Send(request, {{.output = 0,
                              .shape = two_,
                              .dim_count = 1,
                              .data = nullptr,
                              .byte_size = sizeof(values_)}})
                  .find("no data"),
              std::string::npos);
  }
  EXPECT_NE(Send(5, {}).find("no such request"), std::string::npos);
  EXPECT_TRUE(taken_.empty());
  EXPECT_FALSE(requests_[0]->partial->any_sent());
}

TEST_F(PartialResponseTest, AResponseOverTheByteCapIsRefused) {
  config_.outputs[0].dims = {-1};
  const std::vector<int32_t> big(SY_MAX_PARTIAL_RESPONSE_BYTES / sizeof(int32_t) + 1, 1);
  const int64_t shape[1] = {static_cast<int64_t>(big.size())};
  const std::vector<SyOutput> over = {{.output = 0,
                                       .shape = shape,
                                       .dim_count = 1,
                                       .data = big.data(),
                                       .byte_size = big.size() * 4}};
  EXPECT_NE(Send(0, over).find("more than 65536 bytes"), std::string::npos);
  const int64_t at_cap[1] = {shape[0] - 1};
  EXPECT_EQ(Send(0, {{.output = 0,
                      .shape = at_cap,
                      .dim_count = 1,
                      .data = big.data(),
                      .byte_size = (big.size() - 1) * 4}}),
            "");
  EXPECT_EQ(taken_.size(), 1u);
}

}  // namespace
}  // namespace switchyard::plugin
