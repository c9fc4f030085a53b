#include "core/http_envelope.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <limits>

#include "fmt/format.h"

namespace switchyard {
namespace {

class Writer {
 public:
  explicit Writer(std::vector<std::byte>& out) : out_(out) {}
  void Raw(std::string_view s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    out_.insert(out_.end(), p, p + s.size());
  }
  void U32(uint32_t v) { Le(v, 4); }
  void U64(uint64_t v) { Le(v, 8); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    Raw(s);
  }

 private:
  void Le(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
  }
  std::vector<std::byte>& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Take(std::size_t n, std::string_view* out) {
    if (n > in_.size()) return false;
    *out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool U32(uint32_t* v) { return Le(4, v); }
  bool U64(uint64_t* v) { return Le(8, v); }
  std::size_t remaining() const { return in_.size(); }

 private:
  template <typename T>
  bool Le(int bytes, T* v) {
    std::string_view raw;
    if (!Take(static_cast<std::size_t>(bytes), &raw)) return false;
    *v = 0;
    for (int i = bytes - 1; i >= 0; --i) {
      *v = static_cast<T>((*v << 8) | static_cast<uint8_t>(raw[static_cast<std::size_t>(i)]));
    }
    return true;
  }
  std::string_view in_;
};

std::size_t StrSize(std::string_view s) { return 4 + s.size(); }

}  // namespace

Status AppendRequestEnvelopeElement(const RequestEnvelope& envelope, std::vector<std::byte>& out) {
  std::size_t size = 4 + 4 + StrSize(envelope.content_type) + 4 + 4;
  for (const auto& [key, value] : envelope.params) size += StrSize(key) + StrSize(value);
  for (const EnvelopePart& part : envelope.parts) {
    size += StrSize(part.name) + StrSize(part.filename) + StrSize(part.content_type) + 8 +
            part.data.size();
  }
  if (size > std::numeric_limits<uint32_t>::max()) {
    return InvalidArgument(fmt::format("the request ({} bytes) exceeds 4 GiB", size));
  }
  out.reserve(out.size() + 4 + size);
  Writer w(out);
  w.U32(static_cast<uint32_t>(size));
  w.Raw(kRequestEnvelopeMagic);
  w.U32(kEnvelopeVersion);
  w.Str(envelope.content_type);
  w.U32(static_cast<uint32_t>(envelope.params.size()));
  for (const auto& [key, value] : envelope.params) {
    w.Str(key);
    w.Str(value);
  }
  w.U32(static_cast<uint32_t>(envelope.parts.size()));
  for (const EnvelopePart& part : envelope.parts) {
    w.Str(part.name);
    w.Str(part.filename);
    w.Str(part.content_type);
    w.U64(part.data.size());
    w.Raw(part.data);
  }
  return Status::Ok();
}

StatusOr<ResponseEnvelope> DecodeResponseEnvelope(std::string_view element) {
  auto bad = [](std::string_view what) {
    return InvalidArgument(
        fmt::format("the model's response is not a response envelope: {}", what));
  };
  Reader r(element);
  std::string_view magic;
  uint32_t version = 0;
  if (!r.Take(4, &magic) || magic != kResponseEnvelopeMagic) return bad("no SYRS magic");
  if (!r.U32(&version) || version != kEnvelopeVersion) {
    return bad(fmt::format("version {} (expected {})", version, kEnvelopeVersion));
  }
  ResponseEnvelope envelope;
  uint32_t type_size = 0;
  uint64_t body_size = 0;
  if (!r.U32(&type_size) || !r.Take(type_size, &envelope.content_type)) {
    return bad("truncated content type");
  }
  if (!r.U64(&body_size) || body_size != r.remaining() ||
      !r.Take(static_cast<std::size_t>(body_size), &envelope.body)) {
    return bad("the body size does not match the element");
  }
  return envelope;
}

std::string_view ContentTypeOfFile(std::string_view filename) {
  struct Known {
    std::string_view extension;
    std::string_view type;
  };
  static constexpr std::array<Known, 22> kKnown = {{
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"bmp", "image/bmp"},
      {"tif", "image/tiff"},
      {"tiff", "image/tiff"},
      {"pdf", "application/pdf"},
      {"json", "application/json"},
      {"txt", "text/plain; charset=utf-8"},
      {"csv", "text/csv"},
      {"html", "text/html"},
      {"xml", "application/xml"},
      {"wav", "audio/wav"},
      {"mp3", "audio/mpeg"},
      {"mp4", "video/mp4"},
      {"glb", "model/gltf-binary"},
      {"gltf", "model/gltf+json"},
      {"obj", "model/obj"},
      {"ply", "application/ply"},
      {"npy", "application/octet-stream"},
  }};
  std::size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string extension(filename.substr(dot + 1));
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const Known& known : kKnown) {
    if (known.extension == extension) return known.type;
  }
  return "application/octet-stream";
}

}  // namespace switchyard
