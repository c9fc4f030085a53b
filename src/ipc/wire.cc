#include "ipc/wire.h"

#include <fmt/format.h>

#include <bit>
#include <limits>

#include "core/check.h"

namespace switchyard::ipc {
namespace {

// A length that does not fit the u32 prefix is a bug in the encoder's caller, not bad input.
uint32_t CheckedLength(std::size_t length) {
  SY_CHECK(length <= std::numeric_limits<uint32_t>::max(),
           "a wire field longer than its u32 length prefix can say");
  return static_cast<uint32_t>(length);
}

}  // namespace

void WireWriter::PutLittleEndian(uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) {
    bytes_.push_back(static_cast<std::byte>(value >> (8 * i)));
  }
}

void WireWriter::PutU8(uint8_t value) { PutLittleEndian(value, 1); }
void WireWriter::PutU32(uint32_t value) { PutLittleEndian(value, 4); }
void WireWriter::PutU64(uint64_t value) { PutLittleEndian(value, 8); }
void WireWriter::PutI64(int64_t value) { PutLittleEndian(static_cast<uint64_t>(value), 8); }
void WireWriter::PutF64(double value) { PutLittleEndian(std::bit_cast<uint64_t>(value), 8); }
void WireWriter::PutCount(std::size_t count) { PutU32(CheckedLength(count)); }

void WireWriter::PutString(std::string_view value) {
  PutCount(value.size());
  const auto* data = reinterpret_cast<const std::byte*>(value.data());
  bytes_.insert(bytes_.end(), data, data + value.size());
}

void WireWriter::PutI64Vector(std::span<const int64_t> values) {
  PutCount(values.size());
  for (int64_t value : values) PutI64(value);
}

StatusOr<std::span<const std::byte>> WireReader::Take(std::size_t n, std::string_view what) {
  if (n > rest_.size()) {
    return InvalidArgument(
        fmt::format("truncated ipc message: {} needs {} bytes, {} remain", what, n, rest_.size()));
  }
  std::span<const std::byte> taken = rest_.first(n);
  rest_ = rest_.subspan(n);
  return taken;
}

StatusOr<uint64_t> WireReader::ReadLittleEndian(std::size_t width, std::string_view what) {
  ASSIGN_OR_RETURN(std::span<const std::byte> bytes, Take(width, what));
  uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  }
  return value;
}

StatusOr<uint8_t> WireReader::ReadU8() {
  ASSIGN_OR_RETURN(uint64_t value, ReadLittleEndian(1, "u8"));
  return static_cast<uint8_t>(value);
}

StatusOr<uint32_t> WireReader::ReadU32() {
  ASSIGN_OR_RETURN(uint64_t value, ReadLittleEndian(4, "u32"));
  return static_cast<uint32_t>(value);
}

StatusOr<uint64_t> WireReader::ReadU64() { return ReadLittleEndian(8, "u64"); }

StatusOr<int64_t> WireReader::ReadI64() {
  ASSIGN_OR_RETURN(uint64_t value, ReadLittleEndian(8, "i64"));
  return static_cast<int64_t>(value);
}

StatusOr<double> WireReader::ReadF64() {
  ASSIGN_OR_RETURN(uint64_t value, ReadLittleEndian(8, "f64"));
  return std::bit_cast<double>(value);
}

StatusOr<uint32_t> WireReader::ReadCount(std::size_t max_count, std::size_t min_element_bytes) {
  ASSIGN_OR_RETURN(uint32_t count, ReadU32());
  if (count > max_count) {
    return InvalidArgument(
        fmt::format("ipc message has {} elements where at most {} are allowed", count, max_count));
  }
  if (min_element_bytes != 0 && count > rest_.size() / min_element_bytes) {
    return InvalidArgument(
        fmt::format("truncated ipc message: {} elements of at least {} bytes each, {} bytes remain",
                    count, min_element_bytes, rest_.size()));
  }
  return count;
}

StatusOr<std::string> WireReader::ReadString(std::size_t max_bytes) {
  ASSIGN_OR_RETURN(uint32_t length, ReadCount(max_bytes, 1));
  ASSIGN_OR_RETURN(std::span<const std::byte> bytes, Take(length, "string"));
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

StatusOr<std::vector<int64_t>> WireReader::ReadI64Vector(std::size_t max_count) {
  ASSIGN_OR_RETURN(uint32_t count, ReadCount(max_count, sizeof(int64_t)));
  std::vector<int64_t> values;
  values.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(int64_t value, ReadI64());
    values.push_back(value);
  }
  return values;
}

Status WireReader::ExpectEnd() const {
  if (rest_.empty()) return Status::Ok();
  return InvalidArgument(fmt::format("ipc message has {} trailing bytes", rest_.size()));
}

}  // namespace switchyard::ipc
