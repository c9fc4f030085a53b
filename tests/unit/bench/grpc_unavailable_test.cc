// A build without gRPC++ (SWITCHYARD_WITH_GRPC=OFF): --protocol grpc says it is not built in.

#include <gtest/gtest.h>

#include "bench/grpc_transport.h"

namespace switchyard::bench {
namespace {

TEST(GrpcUnavailableTest, EveryEntryPointSaysGrpcIsNotBuiltIn) {
  EXPECT_FALSE(GrpcBuiltIn());
  auto control = GrpcControl::Connect("127.0.0.1:8001");
  EXPECT_EQ(control.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(control.status().message().find("without gRPC"), std::string::npos);
  GrpcPoolConfig config;
  config.arrivals = ClosedLoop::Factory();
  EXPECT_EQ(StartGrpcPool(std::move(config)).status().code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace switchyard::bench
