#pragma once
// Splits a program's stderr into lines, hands each to a callback (the host log) and keeps the last
// few for error messages. Bounded: a line longer than kMaxLineBytes is cut into pieces, and only
// `max_lines` lines are kept. Not thread-safe: one reader feeds it; read Text() after it stopped.

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace switchyard::exec {

class StderrTail {
 public:
  static constexpr size_t kMaxLineBytes = 4096;

  StderrTail(size_t max_lines, std::function<void(std::string_view)> on_line)
      : max_lines_(max_lines), on_line_(std::move(on_line)) {}

  // Appends bytes read from the stream.
  void Feed(std::string_view bytes);
  // Ends the stream: a last line without a newline counts as a line.
  void Finish();
  // The kept lines, each followed by '\n' ("" when none).
  std::string Text() const;

 private:
  void EmitLine();

  size_t max_lines_;
  std::function<void(std::string_view)> on_line_;
  std::string partial_;
  std::deque<std::string> lines_;
};

}  // namespace switchyard::exec
