#pragma once
// JsonWriter: a small, fast JSON writer that appends to a std::string. Used by the KServe v2
// codecs (kserve_codec.cc, kserve_json.cc) for every document the HTTP front end sends.
//
// The writer inserts commas itself; the caller is responsible for nesting (every Start has its
// End, every object member starts with Key). It does not check nesting: it is on the response
// path and its callers are fixed code, not client input.
//
// Not thread-safe: one writer per document.

#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::http {

class JsonWriter {
 public:
  // Appends to `*out`, which must outlive the writer.
  explicit JsonWriter(std::string* out) : out_(out) {}

  void StartObject();
  void EndObject();
  void StartArray();
  void EndArray();

  // An object member's name. REQUIRES: inside an object, and the previous call was not Key.
  void Key(std::string_view key);

  // A string value, escaped per RFC 8259 (", \ and control characters; everything else is
  // written as is). Bytes that are not valid UTF-8 are replaced by U+FFFD so the document stays
  // valid JSON; callers that must not alter data check IsValidUtf8 first.
  void String(std::string_view value);
  void Int(int64_t value);
  void Uint(uint64_t value);
  void Bool(bool value);
  void Null();
  // Shortest text that reads back to the same value (std::to_chars). JSON has no NaN or
  // infinity: they are written as NaN, Infinity and -Infinity, which Python's json module (and
  // so tritonclient) accepts, as do most JSON readers with a lenient mode.
  void Double(double value);
  // Like Double, shortest text that reads back to the same float ("0.1", not
  // "0.10000000149011612").
  void Float(float value);
  // A value that is already JSON text (e.g. a minified element of a parsed document), written as
  // it is. REQUIRES: `json` is one well-formed JSON value.
  void Raw(std::string_view json) {
    BeforeValue();
    out_->append(json);
  }

  // An object member: Key(key), then the value as String, Int, Uint, Bool or Double would write
  // it (named apart, so that a string literal never picks the bool overload).
  void Member(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }
  void IntMember(std::string_view key, int64_t value) {
    Key(key);
    Int(value);
  }
  void UintMember(std::string_view key, uint64_t value) {
    Key(key);
    Uint(value);
  }
  void BoolMember(std::string_view key, bool value) {
    Key(key);
    Bool(value);
  }
  void DoubleMember(std::string_view key, double value) {
    Key(key);
    Double(value);
  }

  // True if `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
  // above U+10FFFF).
  static bool IsValidUtf8(std::string_view text);

 private:
  void BeforeValue() {
    if (need_comma_) out_->push_back(',');
    need_comma_ = true;
  }
  void AppendEscaped(std::string_view text);

  std::string* out_;
  bool need_comma_ = false;  // a value was written at this nesting level: the next needs a comma
};

}  // namespace switchyard::http
