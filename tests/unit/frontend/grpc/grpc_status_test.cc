#include "frontend/grpc/grpc_status.h"

#include <gtest/gtest.h>

#include "frontend/grpc/inference_service.h"

namespace switchyard::grpc_frontend {
namespace {

TEST(GrpcStatusTest, EveryCodeHasItsGrpcCode) {
  const std::pair<StatusCode, grpc::StatusCode> expected[] = {
      {StatusCode::kOk, grpc::StatusCode::OK},
      {StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
      {StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
      {StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
      {StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
      {StatusCode::kPayloadTooLarge, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
      {StatusCode::kInternal, grpc::StatusCode::INTERNAL},
      {StatusCode::kAborted, grpc::StatusCode::INTERNAL},
  };
  for (auto [code, grpc_code] : expected) {
    EXPECT_EQ(GrpcCodeOf(code), grpc_code) << StatusCodeName(code);
  }
}

TEST(GrpcStatusTest, KeepsTheMessage) {
  grpc::Status status = ToGrpcStatus(ResourceExhausted("queue of 'simple' is full"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(), "queue of 'simple' is full");
  EXPECT_TRUE(ToGrpcStatus(Status::Ok()).ok());
}

TEST(GrpcStatusTest, LoopbackPeers) {
  EXPECT_TRUE(PeerIsLoopback("ipv4:127.0.0.1:5000"));
  EXPECT_TRUE(PeerIsLoopback("ipv6:[::1]:5000"));
  EXPECT_TRUE(PeerIsLoopback("ipv6:[::ffff:127.0.0.1]:5000"));
  EXPECT_TRUE(PeerIsLoopback("unix:/tmp/socket"));
  EXPECT_FALSE(PeerIsLoopback("ipv4:10.0.0.7:5000"));
  EXPECT_FALSE(PeerIsLoopback("ipv6:[fe80::1]:5000"));
  EXPECT_FALSE(PeerIsLoopback(""));
}

}  // namespace
}  // namespace switchyard::grpc_frontend
