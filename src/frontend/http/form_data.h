#pragma once
// multipart/form-data request bodies (RFC 7578 over RFC 2046 §5.1) and media types, for routes
// that take a form (`POST /v2/models/{m}/predict`). Pure functions; no allocation proportional
// to a claim the client makes.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/status.h"

namespace switchyard::http {

// One part of a form. Every view points into the body given to ParseMultipartForm (so the body
// must outlive the parts); an absent value is an empty view.
struct FormPart {
  // The `name` parameter of the part's Content-Disposition (may be empty: `name=""`).
  std::string_view name;
  // The `filename` parameter; empty when the part has none. `filename*=` (RFC 5987) is ignored,
  // as RFC 7578 §4.2 says senders must not use it.
  std::string_view filename;
  // The part's Content-Type value as written (parameters included, whitespace trimmed); empty
  // when the part has none (RFC 7578 §4.4 reads that as text/plain).
  std::string_view content_type;
  // The part's content: the bytes between the blank line ending its headers and the CRLF that
  // begins the next delimiter. No Content-Transfer-Encoding is applied (RFC 7578 §4.7).
  std::string_view data;
};

struct MultipartLimits {
  // Parts a body may hold; one more is an error. Default 1024.
  std::size_t max_parts = 1024;
  // Bytes of one part's header block: its header lines with their line ends and the blank line
  // that ends them. Default 16 KiB.
  std::size_t max_part_header_bytes = 16 << 10;
};

// The media type of a Content-Type value: what precedes the first ';', whitespace trimmed,
// ASCII lower-cased ("Application/JSON; charset=x" -> "application/json"). Not validated: ""
// for an empty value.
std::string MediaType(std::string_view content_type);

// Parses `body`, sent with the request header `Content-Type: content_type`, as
// multipart/form-data and returns its parts in body order (duplicate names are kept).
//
// `content_type` must have the media type multipart/form-data and exactly one `boundary`
// parameter (a token or a quoted string) of 1..70 characters of RFC 2046's bchars, not ending
// in a space.
//
// Framing (RFC 2046 §5.1.1). A delimiter line is `--boundary` followed by optional spaces and
// tabs and a CRLF; the close delimiter is `--boundary--`. Either counts only where a line begins:
// at the start of the body, after a CRLF, or (leniently, as Go's reader does) right after the
// blank line that ends a part's headers, which makes that part's content empty. What precedes the
// opening delimiter (the preamble) and follows the close delimiter (the epilogue) is ignored. A
// part's content ends at the CRLF of the next `CRLF--boundary` that is a delimiter line or the
// close delimiter; `CRLF--boundary` followed by anything else is content (the sender promised
// that the boundary does not occur there; this reading keeps content intact when it does). Zero
// parts (the opening delimiter is the close delimiter) is a valid, empty form.
//
// Part headers end at the first empty line. Lines end in CRLF or a bare LF. Header names are
// case-insensitive; each part must have one `Content-Disposition: form-data; name=...`; it may
// have one Content-Type; other headers are ignored. Parameter names and the disposition type are
// case-insensitive; values are tokens or quoted strings. A quoted value is returned as written
// between its quotes: a backslash keeps the next character from ending it (`\"`), but nothing is
// unescaped (browsers percent-encode `"` as %22 instead; that too is returned as written).
//
// InvalidArgument, with a message naming the part, for: a media type other than
// multipart/form-data, a missing, repeated or invalid boundary, no opening delimiter, a body that
// ends before the close delimiter, more than limits.max_parts parts, a header block over
// limits.max_part_header_bytes or not ended by an empty line, a malformed header line (no ':',
// or folded), a missing or repeated Content-Disposition, a disposition other than form-data, a
// missing or repeated name, a repeated Content-Type, a malformed parameter list.
StatusOr<std::vector<FormPart>> ParseMultipartForm(std::string_view content_type,
                                                   std::string_view body,
                                                   const MultipartLimits& limits = {});

}  // namespace switchyard::http
