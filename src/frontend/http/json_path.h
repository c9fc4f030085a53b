#pragma once
// JsonPath: where a value lies in a JSON request ("inputs[0].shape[1]"), for error messages. A
// chain of members and indices on the stack, formatted only when an error names it, so that
// decoding a valid request builds no such strings.

#include <cstddef>
#include <string>
#include <string_view>

namespace switchyard::http {

class JsonPath {
 public:
  // A path from `root` ("inputs", "parameters.priority", "input 'x'"). The text must outlive it.
  explicit JsonPath(std::string_view root) : name_(root) {}

  // The paths of this path's member `name` and of its element `index`. They point to this path:
  // REQUIRES that it outlives them.
  JsonPath Member(std::string_view name) const { return JsonPath(this, name, kNoIndex); }
  JsonPath Index(std::size_t index) const { return JsonPath(this, {}, index); }

  // "inputs[0].shape[1]".
  std::string Text() const {
    std::string text = parent_ != nullptr ? parent_->Text() : std::string();
    if (index_ != kNoIndex) return text + "[" + std::to_string(index_) + "]";
    return parent_ != nullptr ? text + "." + std::string(name_) : std::string(name_);
  }

 private:
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);
  JsonPath(const JsonPath* parent, std::string_view name, std::size_t index)
      : parent_(parent), name_(name), index_(index) {}

  const JsonPath* parent_ = nullptr;
  std::string_view name_;
  std::size_t index_ = kNoIndex;
};

}  // namespace switchyard::http
