#include "switchyard/request_body.h"

#include "core/check.h"

namespace switchyard {

RequestBody::RequestBody(std::string text) : text_(std::move(text)) {}

RequestBody::RequestBody(std::unique_ptr<SharedMemoryBlock> shared) : shared_(std::move(shared)) {
  SY_CHECK(shared_ != nullptr, "a shared-memory body needs its block");
}

std::span<const std::byte> RequestBody::bytes() const {
  if (shared_) return shared_->bytes();
  return std::as_bytes(std::span(text_.data(), text_.size()));
}

std::span<std::byte> RequestBody::mutable_bytes() {
  if (shared_) return shared_->bytes();
  return std::as_writable_bytes(std::span(text_.data(), text_.size()));
}

std::string_view RequestBody::view() const {
  auto b = bytes();
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace switchyard
