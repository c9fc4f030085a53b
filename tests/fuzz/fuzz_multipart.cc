// libFuzzer target for ParseMultipartForm, MediaType and ParseQuery.
//
// Input layout: the first line (up to the first '\n', a trailing '\r' dropped) is the request's
// Content-Type and also a request target for ParseQuery; the rest is the body. Small limits
// (8 parts, 256 header bytes per part) let short inputs reach the limit checks.
// Invariants: every view of every part lies inside the body, the parts' contents come in body
// order without overlapping, the limits hold, and every failure is InvalidArgument.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "frontend/http/form_data.h"
#include "frontend/http/query_string.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

// An absent value (empty) or a view inside `body`.
bool Inside(std::string_view view, std::string_view body) {
  if (view.empty()) return true;
  return view.data() >= body.data() && view.data() + view.size() <= body.data() + body.size();
}

void CheckQuery(std::string_view target) {
  constexpr std::size_t kMaxParams = 16;
  auto params = switchyard::http::ParseQuery(target, kMaxParams);
  if (!params.ok()) {
    Check(params.status().code() == switchyard::StatusCode::kInvalidArgument);
    return;
  }
  Check(params->size() <= kMaxParams);
  std::size_t decoded = 0;
  for (const auto& [key, value] : *params) decoded += key.size() + value.size();
  Check(decoded <= target.size());  // decoding never grows
  if (target.find('?') == std::string_view::npos) Check(params->empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  std::string_view content_type(input);
  std::string_view body;
  if (newline != std::string::npos) {
    content_type = std::string_view(input).substr(0, newline);
    body = std::string_view(input).substr(newline + 1);
  }
  if (!content_type.empty() && content_type.back() == '\r') content_type.remove_suffix(1);

  const std::string media_type = switchyard::http::MediaType(content_type);
  Check(media_type.find(';') == std::string::npos);
  for (char c : media_type) Check(c < 'A' || c > 'Z');

  // The body in a buffer of its own, so that a view past its end is a heap overflow under ASan.
  const std::string owned_body(body);
  switchyard::http::MultipartLimits limits;
  limits.max_parts = 8;
  limits.max_part_header_bytes = 256;
  auto parts = switchyard::http::ParseMultipartForm(content_type, owned_body, limits);
  if (!parts.ok()) {
    Check(parts.status().code() == switchyard::StatusCode::kInvalidArgument);
    Check(!parts.status().message().empty());
  } else {
    Check(media_type == "multipart/form-data");
    Check(parts->size() <= limits.max_parts);
    const char* previous_end = owned_body.data();
    for (const switchyard::http::FormPart& part : *parts) {
      Check(Inside(part.name, owned_body));
      Check(Inside(part.filename, owned_body));
      Check(Inside(part.content_type, owned_body));
      Check(part.data.data() >= previous_end);
      Check(part.data.data() + part.data.size() <= owned_body.data() + owned_body.size());
      previous_end = part.data.data() + part.data.size();
    }
  }

  CheckQuery(content_type);
  CheckQuery(input);
  return 0;
}
