#include "plugin/host_api.h"

#include <algorithm>
#include <cmath>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "core/utf8.h"
#include "plugin/partial_outputs.h"
#include "spdlog/spdlog.h"

struct SyError {
  SyErrorCode code;
  std::string message;
};

namespace switchyard::plugin {
namespace {

static_assert(static_cast<int>(DataType::kBool) == SY_TYPE_BOOL);
static_assert(static_cast<int>(DataType::kFp16) == SY_TYPE_FP16);
static_assert(static_cast<int>(DataType::kBytes) == SY_TYPE_BYTES);

// Returned when even an error cannot be allocated; never freed.
SyError kOutOfMemoryError{SY_ERROR_INTERNAL, "out of memory while reporting an error"};

SyError* NewError(SyErrorCode code, const char* message) {
  try {
    return new SyError{code, message != nullptr ? message : ""};
  } catch (...) {
    return &kOutOfMemoryError;
  }
}

void FreeError(SyError* error) {
  if (error != &kOutOfMemoryError) delete error;
}

StatusCode CodeOf(SyErrorCode code) {
  switch (code) {
    case SY_ERROR_INVALID_ARGUMENT:
    case SY_ERROR_UNSUPPORTED:
      return StatusCode::kInvalidArgument;
    case SY_ERROR_UNAVAILABLE:
      return StatusCode::kUnavailable;
    case SY_ERROR_INTERNAL:
    case SY_ERROR_DEVICE_LOST:
      break;
  }
  return StatusCode::kInternal;
}

SyErrorCode SyCodeOf(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return SY_ERROR_INVALID_ARGUMENT;
    case StatusCode::kUnavailable:
      return SY_ERROR_UNAVAILABLE;
    default:
      return SY_ERROR_INTERNAL;
  }
}

void Log(SyLogLevel level, const char* message) {
  if (message == nullptr) return;
  try {
    switch (level) {
      case SY_LOG_DEBUG:
        return spdlog::debug("backend: {}", message);
      case SY_LOG_INFO:
        return spdlog::info("backend: {}", message);
      case SY_LOG_WARN:
        return spdlog::warn("backend: {}", message);
      default:
        return spdlog::error("backend: {}", message);
    }
  } catch (...) {
  }
}

uint32_t BatchRequestCount(const SyBatch* batch) { return batch->access->request_count(); }

SyError* RequestInput(const SyBatch* batch, uint32_t request, uint32_t input, SyTensor* out) {
  if (out == nullptr) return NewError(SY_ERROR_INVALID_ARGUMENT, "request_input: out is null");
  try {
    Status status = batch->access->Input(request, input, out);
    return status.ok() ? nullptr : MakeError(status);
  } catch (...) {
    return NewError(SY_ERROR_INTERNAL, "request_input failed");
  }
}

int RequestOutputRequested(const SyBatch* batch, uint32_t request, uint32_t output) {
  return batch->access->OutputRequested(request, output) ? 1 : 0;
}

SyError* RequestOutputAlloc(SyBatch* batch, uint32_t request, uint32_t output, const int64_t* shape,
                            uint32_t dim_count, uint64_t byte_size, void** data) {
  if (data == nullptr || (shape == nullptr && dim_count > 0)) {
    return NewError(SY_ERROR_INVALID_ARGUMENT, "request_output_alloc: null argument");
  }
  try {
    auto allocated =
        batch->access->AllocateOutput(request, output, Shape(shape, shape + dim_count), byte_size);
    if (!allocated.ok()) return MakeError(allocated.status());
    *data = *allocated;
    return nullptr;
  } catch (...) {
    return NewError(SY_ERROR_INTERNAL, "request_output_alloc: out of memory");
  }
}

uint32_t RequestParameterCount(const SyBatch* batch, uint32_t request) {
  if (request >= batch->access->request_count()) return 0;
  return static_cast<uint32_t>(batch->access->Parameters(request).size());
}

SyError* RequestParameter(const SyBatch* batch, uint32_t request, uint32_t index, const char** key,
                          const char** value) {
  if (key == nullptr || value == nullptr) {
    return NewError(SY_ERROR_INVALID_ARGUMENT, "request_parameter: null argument");
  }
  if (request >= batch->access->request_count() ||
      index >= batch->access->Parameters(request).size()) {
    return NewError(SY_ERROR_INVALID_ARGUMENT, "request_parameter: index out of range");
  }
  const auto& [name, text] = batch->access->Parameters(request)[index];
  *key = name.c_str();
  *value = text.c_str();
  return nullptr;
}

int RequestCancelled(const SyBatch* batch, uint32_t request) {
  return batch->access->Cancelled(request);
}

void RequestProgress(const SyBatch* batch, uint32_t request, double fraction, const char* message) {
  if (std::isnan(fraction) || request >= batch->access->request_count()) return;
  fraction = std::clamp(fraction, 0.0, 1.0);
  if (!batch->access->progress_gate().Admit(request, fraction)) return;
  const std::string_view text =
      CutUtf8(message == nullptr ? "" : std::string_view(message), kMaxProgressMessageBytes);
  try {
    batch->access->Progress(request, fraction, text);
  } catch (...) {  // out of memory: the report is lost, not the batch
  }
}

SyError* RequestSendPartial(SyBatch* batch, uint32_t request, const SyOutput* outputs,
                            uint32_t output_count) {
  if (outputs == nullptr && output_count > 0) {
    return NewError(SY_ERROR_INVALID_ARGUMENT, "request_send_partial: outputs is null");
  }
  BatchAccess& access = *batch->access;
  if (request >= access.request_count()) {
    return NewError(SY_ERROR_INVALID_ARGUMENT, "request_send_partial: no such request");
  }
  try {
    const std::span<const SyOutput> all(outputs, output_count);
    if (Status checked = CheckPartialOutputs(access.config(), all); !checked.ok()) {
      return MakeError(checked);
    }
    if (!access.TakesPartials(request)) return nullptr;
    std::vector<SyOutput> requested;
    requested.reserve(all.size());
    for (const SyOutput& output : all) {
      if (access.OutputRequested(request, output.output)) requested.push_back(output);
    }
    Status sent = access.SendPartial(request, requested);
    return sent.ok() ? nullptr : MakeError(sent);
  } catch (...) {
    return NewError(SY_ERROR_INTERNAL, "request_send_partial: out of memory");
  }
}

void RequestSetError(SyBatch* batch, uint32_t request, SyError* error) {
  if (error == nullptr) return;
  try {
    batch->access->SetError(request, TakeError(error));
  } catch (...) {
  }
}

const SyHostApi kHostApi = {
    .struct_size = sizeof(SyHostApi),
    .api_version = SY_BACKEND_API_VERSION,
    .error_new = NewError,
    .log = Log,
    .batch_request_count = BatchRequestCount,
    .request_input = RequestInput,
    .request_output_requested = RequestOutputRequested,
    .request_output_alloc = RequestOutputAlloc,
    .request_set_error = RequestSetError,
    .request_parameter_count = RequestParameterCount,
    .request_parameter = RequestParameter,
    .request_cancelled = RequestCancelled,
    .request_progress = RequestProgress,
    .request_send_partial = RequestSendPartial,
};

}  // namespace

const SyHostApi* HostApi() { return &kHostApi; }

bool IsDeviceLost(const SyError* error) {
  return error != nullptr && error->code == SY_ERROR_DEVICE_LOST;
}

Status TakeError(SyError* error, std::string_view context) {
  if (error == nullptr) return Status::Ok();
  Status status(CodeOf(error->code), std::string(context) + error->message);
  FreeError(error);
  return status;
}

SyError* MakeError(const Status& status) {
  return NewError(SyCodeOf(status.code()), status.message().c_str());
}

SyDataType ToSyDataType(DataType type) { return static_cast<SyDataType>(type); }

std::optional<DataType> FromSyDataType(int value) {
  if (value < SY_TYPE_BOOL || value > SY_TYPE_BYTES) return std::nullopt;
  return static_cast<DataType>(value);
}

}  // namespace switchyard::plugin
