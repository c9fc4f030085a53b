#include "exec/outgoing_frame.h"

namespace switchyard::exec {

OutgoingFrame::OutgoingFrame(uint8_t kind) {
  ByteWriter w(&owned_);
  w.U32(0);
  w.U8(kind);
}

void OutgoingFrame::CloseOwnedPiece() {
  if (owned_.size() > owned_start_) {
    pieces_.push_back({nullptr, owned_start_, owned_.size() - owned_start_});
    owned_start_ = owned_.size();
  }
}

void OutgoingFrame::AppendBorrowed(std::span<const uint8_t> data) {
  if (data.empty()) return;
  CloseOwnedPiece();
  pieces_.push_back({data.data(), 0, data.size()});
}

uint64_t OutgoingFrame::size() const {
  uint64_t total = owned_.size() - owned_start_;
  for (const Piece& p : pieces_) total += p.size;
  return total;
}

sdk::Status OutgoingFrame::Finish() {
  uint64_t body = size() - 4;
  if (body > UINT32_MAX) {
    return sdk::InvalidArgument("a frame of " + std::to_string(body) +
                                " bytes exceeds the exec protocol's limit of 4 GiB per batch");
  }
  for (int i = 0; i < 4; ++i) owned_[i] = static_cast<char>((body >> (8 * i)) & 0xff);
  return sdk::Status();
}

std::vector<std::span<const uint8_t>> OutgoingFrame::Pieces() const {
  std::vector<std::span<const uint8_t>> out;
  out.reserve(pieces_.size() + 1);
  const auto* base = reinterpret_cast<const uint8_t*>(owned_.data());
  for (const Piece& p : pieces_) {
    out.emplace_back(p.borrowed != nullptr ? p.borrowed : base + p.offset, p.size);
  }
  if (owned_.size() > owned_start_) {
    out.emplace_back(base + owned_start_, owned_.size() - owned_start_);
  }
  return out;
}

std::string OutgoingFrame::Flatten() const {
  std::string out;
  out.reserve(size());
  for (std::span<const uint8_t> p : Pieces()) {
    out.append(reinterpret_cast<const char*>(p.data()), p.size());
  }
  return out;
}

}  // namespace switchyard::exec
