#pragma once
// The host side of the plugin ABI (include/switchyard/backend.h): the SyHostApi table given to
// every plugin, the concrete SyBatch and SyError, and conversions to and from Status/DataType.

#include <optional>

#include "plugin/batch_access.h"
#include "switchyard/backend.h"
#include "switchyard/datatype.h"
#include "switchyard/status.h"

// The opaque SyBatch of the C ABI: a handle on the host's BatchAccess for one Execute call.
struct SyBatch {
  switchyard::plugin::BatchAccess* access;
};

namespace switchyard::plugin {

// The host function table (static, immutable; thread-safe).
const SyHostApi* HostApi();

// Converts an error a plugin returned into a Status and frees it; null is OK. The message is
// prefixed with `context` ("backend 'torch': ") when given.
Status TakeError(SyError* error, std::string_view context = {});

// Whether a plugin's error says its device is unusable (SY_ERROR_DEVICE_LOST). Null: false.
bool IsDeviceLost(const SyError* error);

// A new SyError from a Status (for host functions that return errors). REQUIRES: !status.ok().
SyError* MakeError(const Status& status);

SyDataType ToSyDataType(DataType type);
std::optional<DataType> FromSyDataType(int value);

}  // namespace switchyard::plugin
