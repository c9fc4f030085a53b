// grpc_transport.h in a build without gRPC++ (SWITCHYARD_WITH_GRPC=OFF): every call says so.

#include "bench/grpc_transport.h"

namespace switchyard::bench {
namespace {

Status NotBuiltIn() {
  return Unimplemented(
      "this switchyard was built without gRPC (SWITCHYARD_WITH_GRPC=OFF): --protocol grpc is not "
      "available");
}

}  // namespace

bool GrpcBuiltIn() { return false; }

StatusOr<std::unique_ptr<LoadPool>> StartGrpcPool(GrpcPoolConfig) { return NotBuiltIn(); }

StatusOr<std::unique_ptr<GrpcControl>> GrpcControl::Connect(const std::string&) {
  return NotBuiltIn();
}

}  // namespace switchyard::bench
