#pragma once
// Little-endian encoding for the exec protocol: ByteWriter appends to a buffer, ByteReader reads
// a span with bounds checks (a short read is an error naming what was being read and where).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}

  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { PutLe(v, 4); }
  void U64(uint64_t v) { PutLe(v, 8); }
  void I32(int32_t v) { PutLe(static_cast<uint32_t>(v), 4); }
  void I64(int64_t v) { PutLe(static_cast<uint64_t>(v), 8); }
  void Bytes(const void* data, size_t size) {
    if (size > 0) out_->append(static_cast<const char*>(data), size);
  }
  // u32 length + bytes. REQUIRES: s.size() <= UINT32_MAX.
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    Bytes(s.data(), s.size());
  }

 private:
  void PutLe(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string* out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

  // Each reads at the current offset and advances; on a short read it returns InvalidArgument
  // "truncated ... while reading <what>" and leaves the offset unchanged.
  sdk::Status U8(uint8_t* v, const char* what);
  sdk::Status U32(uint32_t* v, const char* what);
  sdk::Status U64(uint64_t* v, const char* what);
  sdk::Status I64(int64_t* v, const char* what);
  // A view of the next `size` bytes (valid as long as the underlying data).
  sdk::Status Bytes(uint64_t size, std::span<const uint8_t>* v, const char* what);
  // u32 length + bytes.
  sdk::Status Str(std::string_view* v, const char* what);

 private:
  sdk::Status Truncated(size_t need, const char* what) const;
  uint64_t Le(int bytes);
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

}  // namespace switchyard::exec
