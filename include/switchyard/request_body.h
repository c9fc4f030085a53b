#pragma once
// The bytes a request was decoded from (an HTTP body): its binary tensors borrow from them.
//
// A body is either an ordinary heap string or a block of shared memory that the model's worker
// processes map (SharedMemoryBlock). A front end asks the server for body memory before it reads
// a large infer request (Server::NewRequestBody) and receives the bytes straight into it; the
// instance then names the tensors where they lie instead of copying them into its slot.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace switchyard {

// A block of a shared-memory region (a memfd) that worker processes can map. The block is given
// back to its pool when this object is destroyed. Thread-safety: const methods from any thread.
class SharedMemoryBlock {
 public:
  virtual ~SharedMemoryBlock() = default;

  // The block: writable by the one who fills it (before the request is submitted).
  virtual std::span<std::byte> bytes() const = 0;
  // The region holding the block: an id unique in this process (never 0), its memfd (owned by
  // the region, valid while this block lives), its size, and where the block starts in it.
  virtual uint32_t region_id() const = 0;
  virtual int region_fd() const = 0;
  virtual uint64_t region_size() const = 0;
  virtual uint64_t offset_in_region() const = 0;
};

// Move-only. Thread-safety: none (one owner at a time), like the request that holds it.
class RequestBody {
 public:
  RequestBody() = default;
  // An ordinary body. Implicit, so a string can be assigned where a body is expected.
  RequestBody(std::string text);  // NOLINT(google-explicit-constructor)
  // A body in shared memory; its size is the block's. REQUIRES: `shared` non-null.
  explicit RequestBody(std::unique_ptr<SharedMemoryBlock> shared);

  RequestBody(RequestBody&&) noexcept = default;
  RequestBody& operator=(RequestBody&&) noexcept = default;
  RequestBody(const RequestBody&) = delete;
  RequestBody& operator=(const RequestBody&) = delete;

  std::span<const std::byte> bytes() const;
  // Where to receive the body. Its size is fixed at construction.
  std::span<std::byte> mutable_bytes();
  std::string_view view() const;
  std::size_t size() const { return bytes().size(); }
  bool empty() const { return size() == 0; }

  // The shared memory the body lives in, or null for an ordinary body.
  const SharedMemoryBlock* shared() const { return shared_.get(); }

 private:
  std::string text_;
  std::unique_ptr<SharedMemoryBlock> shared_;
};

}  // namespace switchyard
