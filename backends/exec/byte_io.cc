#include "exec/byte_io.h"

namespace switchyard::exec {

sdk::Status ByteReader::Truncated(size_t need, const char* what) const {
  return sdk::InvalidArgument("truncated frame: " + std::to_string(need) + " bytes needed for " +
                              what + " at offset " + std::to_string(pos_) + ", " +
                              std::to_string(remaining()) + " left");
}

uint64_t ByteReader::Le(int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
  pos_ += bytes;
  return v;
}

sdk::Status ByteReader::U8(uint8_t* v, const char* what) {
  if (remaining() < 1) return Truncated(1, what);
  *v = static_cast<uint8_t>(Le(1));
  return sdk::Status();
}

sdk::Status ByteReader::U32(uint32_t* v, const char* what) {
  if (remaining() < 4) return Truncated(4, what);
  *v = static_cast<uint32_t>(Le(4));
  return sdk::Status();
}

sdk::Status ByteReader::U64(uint64_t* v, const char* what) {
  if (remaining() < 8) return Truncated(8, what);
  *v = Le(8);
  return sdk::Status();
}

sdk::Status ByteReader::I64(int64_t* v, const char* what) {
  if (remaining() < 8) return Truncated(8, what);
  *v = static_cast<int64_t>(Le(8));
  return sdk::Status();
}

sdk::Status ByteReader::Bytes(uint64_t size, std::span<const uint8_t>* v, const char* what) {
  if (remaining() < size) {
    return sdk::InvalidArgument("truncated frame: " + std::to_string(size) + " bytes needed for " +
                                what + " at offset " + std::to_string(pos_) + ", " +
                                std::to_string(remaining()) + " left");
  }
  *v = data_.subspan(pos_, static_cast<size_t>(size));
  pos_ += static_cast<size_t>(size);
  return sdk::Status();
}

sdk::Status ByteReader::Str(std::string_view* v, const char* what) {
  size_t start = pos_;
  uint32_t len = 0;
  SY_RETURN_IF_ERROR(U32(&len, what));
  std::span<const uint8_t> bytes;
  sdk::Status s = Bytes(len, &bytes, what);
  if (!s.ok()) {
    pos_ = start;
    return s;
  }
  *v = std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return sdk::Status();
}

}  // namespace switchyard::exec
