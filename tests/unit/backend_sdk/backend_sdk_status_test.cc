#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "switchyard/backend_sdk/status.h"

namespace switchyard::sdk {
namespace {

TEST(BackendSdkStatusTest, OkAndFailures) {
  EXPECT_TRUE(Status().ok());
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status().message(), "");
  const Status failed = InvalidArgument("bad");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.code(), SY_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(failed.message(), "bad");
  EXPECT_EQ(Unsupported("x").code(), SY_ERROR_UNSUPPORTED);
  EXPECT_EQ(Unavailable("x").code(), SY_ERROR_UNAVAILABLE);
  EXPECT_EQ(Internal("x").code(), SY_ERROR_INTERNAL);
  EXPECT_EQ(Status(SY_ERROR_DEVICE_LOST, "gone").code(), SY_ERROR_DEVICE_LOST);
  EXPECT_FALSE(Status(SY_ERROR_INTERNAL, "").ok());  // an empty message is still a failure
}

TEST(BackendSdkStatusTest, PrefixedKeepsTheCodeAndLeavesOkAlone) {
  const Status prefixed = Unavailable("busy").Prefixed("model m: ");
  EXPECT_EQ(prefixed.code(), SY_ERROR_UNAVAILABLE);
  EXPECT_EQ(prefixed.message(), "model m: busy");
  EXPECT_TRUE(Status().Prefixed("model m: ").ok());
  EXPECT_EQ(Status().Prefixed("model m: ").message(), "");
}

TEST(BackendSdkStatusOrTest, ValueOrStatus) {
  StatusOr<std::string> value = std::string("v");
  ASSERT_TRUE(value.ok());
  EXPECT_TRUE(value.status().ok());
  EXPECT_EQ(*value, "v");
  EXPECT_EQ(value->size(), 1u);
  StatusOr<std::string> failed = Internal("no");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), SY_ERROR_INTERNAL);
  EXPECT_EQ(failed.status().message(), "no");
  StatusOr<std::unique_ptr<int>> move_only = std::make_unique<int>(7);
  std::unique_ptr<int> taken = std::move(move_only).value();
  EXPECT_EQ(*taken, 7);
}

Status FailsWhen(bool fail) { return fail ? InvalidArgument("failed") : Status(); }
StatusOr<int> Half(int n) {
  if (n % 2 != 0) return InvalidArgument(std::to_string(n) + " is odd");
  return n / 2;
}

Status Chain(bool fail, int n, int* out) {
  SY_RETURN_IF_ERROR(FailsWhen(fail));
  SY_ASSIGN_OR_RETURN(int half, Half(n));
  SY_ASSIGN_OR_RETURN(*out, Half(half));
  return Status();
}

TEST(BackendSdkStatusTest, Macros) {
  int out = 0;
  EXPECT_EQ(Chain(true, 4, &out).message(), "failed");
  EXPECT_EQ(Chain(false, 3, &out).message(), "3 is odd");
  EXPECT_EQ(Chain(false, 6, &out).message(), "3 is odd");
  EXPECT_EQ(out, 0);
  EXPECT_TRUE(Chain(false, 8, &out).ok());
  EXPECT_EQ(out, 2);
}

}  // namespace
}  // namespace switchyard::sdk
