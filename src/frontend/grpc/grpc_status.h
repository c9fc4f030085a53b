#pragma once
// How switchyard's Status travels over gRPC: each StatusCode maps to one gRPC code, as each maps
// to one HTTP status on the HTTP front end (docs/protocol.md has the table). Pure functions.

#include <grpcpp/support/status.h>

#include "switchyard/status.h"

namespace switchyard::grpc_frontend {

// INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED (a full queue, and a size limit passed),
// DEADLINE_EXCEEDED, UNAVAILABLE, ... kAborted (the instance was lost and the retry failed) is
// INTERNAL, as it is 500 over HTTP.
grpc::StatusCode GrpcCodeOf(StatusCode code);

// `status` as a grpc::Status with the same message (OK for OK).
grpc::Status ToGrpcStatus(const Status& status);

}  // namespace switchyard::grpc_frontend
