#include "plugin/output_ledger.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::plugin {
namespace {

ModelConfig Config() {
  ModelConfig config;
  config.name = "m";
  config.outputs = {{"X", DataType::kFp32, {2}}, {"S", DataType::kBytes, {1}}};
  return config;
}

void ExpectInvalid(const Status& status, const std::string& fragment) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.message();
  EXPECT_NE(status.message().find(fragment), std::string::npos) << status.message();
}

TEST(OutputLedgerTest, RecordsAnAllocationOnceAndLeavesItsMemoryToTheCaller) {
  ModelConfig config = Config();
  OutputLedger<int> ledger(&config, 2);
  auto x = ledger.Allocate(1, 0, {1, 2}, 8);
  ASSERT_TRUE(x.ok()) << x.status().message();
  (*x)->memory = 42;
  const auto& outputs = ledger.outputs(1);
  EXPECT_TRUE(outputs[0].allocated);
  EXPECT_EQ(outputs[0].shape, (Shape{1, 2}));
  EXPECT_EQ(outputs[0].size, 8u);
  EXPECT_EQ(outputs[0].memory, 42);
  EXPECT_FALSE(outputs[1].allocated);
  EXPECT_FALSE(ledger.outputs(0)[0].allocated);  // another request's output is apart
  ExpectInvalid(ledger.Allocate(1, 0, {1, 2}, 8).status(),
                "output 'X' of request 1 allocated twice");
  EXPECT_EQ(ledger.outputs(1)[0].memory, 42);  // the refused second allocation changed nothing
}

TEST(OutputLedgerTest, RefusesIndicesOutOfRangeAndSizesThatDoNotFit) {
  ModelConfig config = Config();
  OutputLedger<int> ledger(&config, 1);
  ExpectInvalid(ledger.Allocate(1, 0, {2}, 8).status(), "no output 0 of request 1");
  ExpectInvalid(ledger.Allocate(0, 2, {2}, 8).status(), "no output 2 of request 0");
  ExpectInvalid(ledger.Allocate(0, 0, {2}, 7).status(), "7 bytes do not fit FP32 of [2]");
  ExpectInvalid(ledger.Allocate(0, 0, {-2}, 8).status(), "bad shape");
  ExpectInvalid(ledger.Allocate(0, 1, {3}, 11).status(), "11 bytes do not fit BYTES of [3]");
  EXPECT_TRUE(ledger.Allocate(0, 1, {3}, 12).ok());  // BYTES: at least 4 bytes an element
  EXPECT_TRUE(ledger.Allocate(0, 0, {2}, 8).ok());   // the refusals allocated nothing
}

TEST(OutputLedgerTest, ARequestEndsWithItsFirstErrorElseTheBatchStatus) {
  ModelConfig config = Config();
  OutputLedger<int> ledger(&config, 3);
  ledger.SetError(0, InvalidArgument("first"));
  ledger.SetError(0, Internal("second"));
  ledger.SetError(1, Status::Ok());  // not an error: ignored
  EXPECT_EQ(ledger.Outcome(0, Status::Ok()).message(), "first");
  EXPECT_EQ(ledger.Outcome(0, Internal("batch")).message(), "first");
  EXPECT_TRUE(ledger.Outcome(1, Status::Ok()).ok());
  EXPECT_EQ(ledger.Outcome(2, Internal("batch")).message(), "batch");
}

}  // namespace
}  // namespace switchyard::plugin
