#include <gtest/gtest.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "switchyard/backend_sdk/entry.h"

// This test plays the host: it defines the opaque types.
struct SyError {
  SyErrorCode code;
  std::string message;
};

struct SyBatch {
  std::vector<std::unique_ptr<SyError>> errors;  // per request
};

namespace switchyard::sdk {
namespace {

SyError* ErrorNew(SyErrorCode code, const char* message) { return new SyError{code, message}; }
void SetError(SyBatch* batch, uint32_t r, SyError* error) { batch->errors.at(r).reset(error); }

const SyHostApi kHost = {.struct_size = sizeof(SyHostApi),
                         .api_version = SY_BACKEND_API_VERSION,
                         .error_new = ErrorNew,
                         .request_set_error = SetError};

std::unique_ptr<SyError> Take(SyError* error) { return std::unique_ptr<SyError>(error); }

std::string Describe(const char* what) {
  return std::string("edge: ") + (what != nullptr ? what : "unknown exception");
}

TEST(BackendSdkEntryTest, ToErrorCopiesTheStatus) {
  EXPECT_EQ(ToError(&kHost, Status()), nullptr);
  auto error = Take(ToError(&kHost, Unsupported("no such thing")));
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->code, SY_ERROR_UNSUPPORTED);
  EXPECT_EQ(error->message, "no such thing");
}

TEST(BackendSdkEntryTest, FailRequestFailsThatRequestOnly) {
  SyBatch batch;
  batch.errors.resize(2);
  FailRequest(kHost, &batch, 1, InvalidArgument("bad input"));
  EXPECT_EQ(batch.errors[0], nullptr);
  ASSERT_NE(batch.errors[1], nullptr);
  EXPECT_EQ(batch.errors[1]->code, SY_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(batch.errors[1]->message, "bad input");
}

TEST(BackendSdkEntryTest, GuardedCallPassesOnWhatTheBodyReturns) {
  EXPECT_EQ(GuardedCall(
                &kHost, [] { return Status(); }, Describe),
            nullptr);
  EXPECT_EQ(GuardedCall(
                &kHost, []() -> SyError* { return nullptr; }, Describe),
            nullptr);
  auto from_status = Take(GuardedCall(
      &kHost, [] { return Unavailable("later"); }, Describe));
  ASSERT_NE(from_status, nullptr);
  EXPECT_EQ(from_status->code, SY_ERROR_UNAVAILABLE);
  EXPECT_EQ(from_status->message, "later");
  SyError* own = ErrorNew(SY_ERROR_DEVICE_LOST, "lost");
  auto passed = Take(GuardedCall(
      &kHost, [&] { return own; }, Describe));
  EXPECT_EQ(passed.get(), own);  // the same error, not a copy
}

TEST(BackendSdkEntryTest, GuardedCallTurnsExceptionsIntoInternalErrors) {
  auto standard = Take(GuardedCall(
      &kHost, []() -> Status { throw std::runtime_error("boom"); }, Describe));
  ASSERT_NE(standard, nullptr);
  EXPECT_EQ(standard->code, SY_ERROR_INTERNAL);
  EXPECT_EQ(standard->message, "edge: boom");
  auto other = Take(GuardedCall(
      &kHost, []() -> SyError* { throw 42; }, Describe));
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->code, SY_ERROR_INTERNAL);
  EXPECT_EQ(other->message, "edge: unknown exception");
}

TEST(BackendSdkEntryTest, DescribeMayRethrowToSeeTheType) {
  auto error = Take(GuardedCall(
      &kHost, []() -> Status { throw std::bad_alloc(); },
      [](const char* what) -> std::string {
        try {
          throw;
        } catch (const std::bad_alloc&) {
          return "out of memory";
        } catch (...) {
          return what;
        }
      }));
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->message, "out of memory");
}

}  // namespace
}  // namespace switchyard::sdk
