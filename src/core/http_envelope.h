#pragma once
// The HTTP envelope: how a plain HTTP request reaches a model that takes HTTP as it is (a
// `backend: python` model without declared inputs, ModelConfig::http_envelope) and how its
// answer comes back. POST /v2/models/{m}/predict packs the request into one element of the
// model's BYTES input `request`; the model answers with one element of its BYTES output
// `response`. The Python runner (clients/python/switchyard.py) reads and writes the same layout.
//
// Little-endian; str = u32 length | bytes.
//   request  = "SYRQ" | u32 version 1 | str content_type |
//              u32 nparams | (str key | str value) × nparams |        query parameters, decoded
//              u32 nparts  | (str name | str filename | str content_type | u64 size | bytes) ×
//              nparts
//   response = "SYRS" | u32 version 1 | str content_type | u64 size | bytes
// A multipart/form-data body becomes one part per form field; any other body one part named ""
// holding the whole body with the request's content type.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/status.h"

namespace switchyard {

inline constexpr std::string_view kRequestEnvelopeMagic = "SYRQ";
inline constexpr std::string_view kResponseEnvelopeMagic = "SYRS";
inline constexpr uint32_t kEnvelopeVersion = 1;

struct EnvelopePart {
  std::string_view name;
  std::string_view filename;      // "" for a plain form field or a whole body
  std::string_view content_type;  // "" when the client gave none
  std::string_view data;
};

struct RequestEnvelope {
  std::string_view content_type;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<EnvelopePart> parts;
};

// The envelope's bytes appended to `out` as one BYTES element (its u32 length first).
// InvalidArgument when the envelope would exceed 4 GiB.
Status AppendRequestEnvelopeElement(const RequestEnvelope& envelope, std::vector<std::byte>& out);

struct ResponseEnvelope {
  std::string_view content_type;
  std::string_view body;  // views into the element
};

// Parses one `response` element. InvalidArgument (naming what is wrong) for anything else.
StatusOr<ResponseEnvelope> DecodeResponseEnvelope(std::string_view element);

// The content type a file is sent with, from its extension ("page.PNG" -> "image/png");
// application/octet-stream when unknown.
std::string_view ContentTypeOfFile(std::string_view filename);

}  // namespace switchyard
