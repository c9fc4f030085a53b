#pragma once
// The KServe v2 datatypes of backend.h's SyDataType: their names and element sizes.
//
// Part of the backend SDK (include/switchyard/backend_sdk/): header-only, C++17 and later;
// optional for plugins (docs/plugin-abi.md).

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "switchyard/backend.h"

namespace switchyard::sdk {

namespace datatype_internal {

struct Info {
  SyDataType datatype;
  std::string_view name;
  size_t size;
};

inline constexpr std::array<Info, 14> kInfos = {{
    {SY_TYPE_BOOL, "BOOL", 1},
    {SY_TYPE_UINT8, "UINT8", 1},
    {SY_TYPE_UINT16, "UINT16", 2},
    {SY_TYPE_UINT32, "UINT32", 4},
    {SY_TYPE_UINT64, "UINT64", 8},
    {SY_TYPE_INT8, "INT8", 1},
    {SY_TYPE_INT16, "INT16", 2},
    {SY_TYPE_INT32, "INT32", 4},
    {SY_TYPE_INT64, "INT64", 8},
    {SY_TYPE_FP16, "FP16", 2},
    {SY_TYPE_BF16, "BF16", 2},
    {SY_TYPE_FP32, "FP32", 4},
    {SY_TYPE_FP64, "FP64", 8},
    {SY_TYPE_BYTES, "BYTES", 0},
}};

constexpr const Info* Find(int datatype) {
  for (const Info& info : kInfos) {
    if (info.datatype == datatype) return &info;
  }
  return nullptr;
}

}  // namespace datatype_internal

// The KServe v2 name of a SyDataType value: "BOOL", "UINT8", ..., "FP32", "BYTES"; `if_unknown`
// for a value outside the enum (a host passes only enum values; a plugin chooses what its
// messages say otherwise). The value is taken as an int: converting one outside the enum's range
// to SyDataType would itself be undefined.
constexpr std::string_view DataTypeName(int datatype, std::string_view if_unknown = "?") {
  const datatype_internal::Info* info = datatype_internal::Find(datatype);
  return info == nullptr ? if_unknown : info->name;
}

// The datatype whose KServe v2 name is exactly `name` (case-sensitive); nullopt when none is.
constexpr std::optional<SyDataType> ParseDataTypeName(std::string_view name) {
  for (const datatype_internal::Info& info : datatype_internal::kInfos) {
    if (info.name == name) return info.datatype;
  }
  return std::nullopt;
}

// Bytes per element of a SyDataType value (an int, as for DataTypeName); 0 for BYTES
// (variable-length elements) and for a value outside the enum.
constexpr size_t ElementSize(int datatype) {
  const datatype_internal::Info* info = datatype_internal::Find(datatype);
  return info == nullptr ? 0 : info->size;
}

}  // namespace switchyard::sdk
