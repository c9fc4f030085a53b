#pragma once
// The ipc wire format's primitives: fixed-width little-endian integers, doubles as their IEEE-754
// bit pattern, strings as a u32 byte length then the bytes, i64 vectors as a u32 count then the
// values. Nothing is aligned or padded, so one value has exactly one encoding.
//
// WireReader reads bytes that come from another process, which may be crashed or hostile: every
// read is bounds-checked, and malformed input (too few bytes, a length or count beyond what
// remains or beyond the caller's cap) yields InvalidArgument. Nothing is allocated before the
// input has shown it holds the bytes to fill it.
//
// Both are single-threaded value types.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/status.h"

namespace switchyard::ipc {

class WireWriter {
 public:
  void PutU8(uint8_t value);
  void PutU32(uint32_t value);
  void PutU64(uint64_t value);
  void PutI64(int64_t value);
  void PutF64(double value);
  // REQUIRES: value.size() < 2^32 (aborts otherwise).
  void PutString(std::string_view value);
  // REQUIRES: values.size() < 2^32 (aborts otherwise).
  void PutI64Vector(std::span<const int64_t> values);
  // The u32 element count that precedes a sequence the caller writes element by element.
  // REQUIRES: count < 2^32 (aborts otherwise).
  void PutCount(std::size_t count);

  const std::vector<std::byte>& bytes() const { return bytes_; }
  std::vector<std::byte> Release() && { return std::move(bytes_); }

 private:
  void PutLittleEndian(uint64_t value, std::size_t width);

  std::vector<std::byte> bytes_;
};

class WireReader {
 public:
  // `bytes` must outlive the reader.
  explicit WireReader(std::span<const std::byte> bytes) : rest_(bytes) {}

  StatusOr<uint8_t> ReadU8();
  StatusOr<uint32_t> ReadU32();
  StatusOr<uint64_t> ReadU64();
  StatusOr<int64_t> ReadI64();
  StatusOr<double> ReadF64();
  // Fails if the length exceeds `max_bytes` or what remains.
  StatusOr<std::string> ReadString(std::size_t max_bytes);
  // Fails if the count exceeds `max_count` or what remains.
  StatusOr<std::vector<int64_t>> ReadI64Vector(std::size_t max_count);
  // Reads the count written by PutCount for a sequence whose elements take at least
  // `min_element_bytes` each. Fails if it exceeds `max_count` or if that many elements cannot
  // fit in what remains, so the caller may reserve `count` elements.
  StatusOr<uint32_t> ReadCount(std::size_t max_count, std::size_t min_element_bytes);

  std::size_t remaining() const { return rest_.size(); }
  // InvalidArgument if any bytes remain unread.
  Status ExpectEnd() const;

 private:
  // The next `n` bytes, consumed; InvalidArgument if fewer remain.
  StatusOr<std::span<const std::byte>> Take(std::size_t n, std::string_view what);
  StatusOr<uint64_t> ReadLittleEndian(std::size_t width, std::string_view what);

  std::span<const std::byte> rest_;
};

}  // namespace switchyard::ipc
