#include "exec/stderr_tail.h"

namespace switchyard::exec {

void StderrTail::EmitLine() {
  if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
  if (on_line_) on_line_(partial_);
  if (max_lines_ > 0) {
    if (lines_.size() == max_lines_) lines_.pop_front();
    lines_.push_back(std::move(partial_));
  }
  partial_.clear();
}

void StderrTail::Feed(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view piece = bytes.substr(0, nl);
    size_t room = kMaxLineBytes - partial_.size();
    if (piece.size() >= room) {
      partial_.append(piece.substr(0, room));
      EmitLine();
      bytes.remove_prefix(room);
      continue;
    }
    partial_.append(piece);
    if (nl == std::string_view::npos) return;
    EmitLine();
    bytes.remove_prefix(nl + 1);
  }
}

void StderrTail::Finish() {
  if (!partial_.empty()) EmitLine();
}

std::string StderrTail::Text() const {
  std::string out;
  for (const std::string& line : lines_) {
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace switchyard::exec
