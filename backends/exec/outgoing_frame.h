#pragma once
// A frame being sent: the small encoded parts it owns, interleaved with large tensor data it only
// borrows (so a batch's inputs are written to the program without being copied first).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "exec/byte_io.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {

class OutgoingFrame {
 public:
  // Starts a frame of `kind`: u32 size (patched by Finish) + u8 kind.
  explicit OutgoingFrame(uint8_t kind);
  OutgoingFrame(OutgoingFrame&&) = default;
  OutgoingFrame& operator=(OutgoingFrame&&) = default;

  // Appends owned bytes (the writer is valid until the frame is moved or destroyed).
  ByteWriter writer() { return ByteWriter(&owned_); }
  // Appends `data` by reference. REQUIRES: it stays valid until the frame is sent.
  void AppendBorrowed(std::span<const uint8_t> data);
  // Writes the size prefix. InvalidArgument when the frame exceeds the protocol's 4 GiB limit.
  sdk::Status Finish();

  uint64_t size() const;
  // The frame's bytes in order. Valid until the frame is modified or destroyed.
  std::vector<std::span<const uint8_t>> Pieces() const;
  // The whole frame as one buffer (tests).
  std::string Flatten() const;

 private:
  struct Piece {
    const uint8_t* borrowed;  // nullptr: owned_[offset, offset + size)
    size_t offset;
    size_t size;
  };
  void CloseOwnedPiece();

  std::string owned_;
  size_t owned_start_ = 0;  // start of the owned bytes not yet in pieces_
  std::vector<Piece> pieces_;
};

}  // namespace switchyard::exec
