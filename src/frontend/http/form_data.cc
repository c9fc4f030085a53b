#include "frontend/http/form_data.h"

#include <algorithm>
#include <optional>

#include "fmt/format.h"

namespace switchyard::http {
namespace {

constexpr std::size_t kMaxBoundaryChars = 70;  // RFC 2046 §5.1.1

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

char ToLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 9110 tchar.
bool IsTokenChar(char c) {
  return IsAlnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// RFC 2046 bchars.
bool IsBoundaryChar(char c) {
  return IsAlnum(c) || std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

// Client text for an error message, cut short.
std::string Quote(std::string_view text) {
  constexpr std::size_t kMax = 40;
  if (text.size() <= kMax) return fmt::format("'{}'", text);
  return fmt::format("'{}...'", text.substr(0, kMax));
}

struct Parameter {
  std::string_view name;
  std::string_view value;  // a quoted value without its quotes, as written
};

// Parses the `; name=value` list that follows a media type or a disposition type; `text` is empty
// or starts at the first ';'. Empty entries (`;;`, a trailing ';') are skipped.
StatusOr<std::vector<Parameter>> ParseParameters(std::string_view text) {
  std::vector<Parameter> params;
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && IsSpace(text[i])) ++i;
  };
  while (true) {
    skip_space();
    if (i == text.size()) return params;
    if (text[i] != ';') {
      return InvalidArgument(fmt::format("expected ';' at {}", Quote(text.substr(i))));
    }
    ++i;
    skip_space();
    if (i == text.size() || text[i] == ';') continue;
    const std::size_t name_start = i;
    while (i < text.size() && IsTokenChar(text[i])) ++i;
    Parameter param{text.substr(name_start, i - name_start), {}};
    if (param.name.empty()) {
      return InvalidArgument(fmt::format("expected a parameter name at {}", Quote(text.substr(i))));
    }
    skip_space();
    if (i == text.size() || text[i] != '=') {
      return InvalidArgument(fmt::format("parameter {} has no '=value'", Quote(param.name)));
    }
    ++i;
    skip_space();
    if (i < text.size() && text[i] == '"') {
      const std::size_t value_start = ++i;
      while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      if (i >= text.size()) {
        return InvalidArgument(
            fmt::format("parameter {}: unterminated quoted value", Quote(param.name)));
      }
      param.value = text.substr(value_start, i - value_start);
      ++i;
    } else {
      const std::size_t value_start = i;
      while (i < text.size() && IsTokenChar(text[i])) ++i;
      param.value = text.substr(value_start, i - value_start);
      if (param.value.empty()) {
        return InvalidArgument(fmt::format("parameter {} has no value", Quote(param.name)));
      }
    }
    params.push_back(param);
  }
}

StatusOr<std::string_view> BoundaryOf(std::string_view content_type) {
  const std::string media_type = MediaType(content_type);
  if (media_type != "multipart/form-data") {
    return InvalidArgument(
        fmt::format("Content-Type {} is not multipart/form-data", Quote(media_type)));
  }
  const std::size_t semicolon = content_type.find(';');
  auto params = ParseParameters(
      semicolon == std::string_view::npos ? std::string_view() : content_type.substr(semicolon));
  if (!params.ok()) return InvalidArgument("Content-Type: " + params.status().message());
  std::optional<std::string_view> boundary;
  for (const Parameter& param : *params) {
    if (!EqualsIgnoreCase(param.name, "boundary")) continue;
    if (boundary) return InvalidArgument("Content-Type has more than one boundary parameter");
    boundary = param.value;
  }
  if (!boundary) return InvalidArgument("Content-Type multipart/form-data has no boundary");
  if (boundary->empty() || boundary->size() > kMaxBoundaryChars) {
    return InvalidArgument(fmt::format("the boundary must have 1 to {} characters, not {}",
                                       kMaxBoundaryChars, boundary->size()));
  }
  for (char c : *boundary) {
    if (!IsBoundaryChar(c)) {
      return InvalidArgument(fmt::format(
          "the boundary holds the byte {:#04x}, which RFC 2046 does not allow in a boundary",
          static_cast<unsigned char>(c)));
    }
  }
  if (boundary->back() == ' ') return InvalidArgument("the boundary ends in a space");
  return *boundary;
}

enum class DelimiterKind { kNone, kPart, kClose };

struct Delimiter {
  std::size_t begin;  // where `--boundary` (or the CRLF before it) begins: the end of the content
  DelimiterKind kind;
  std::size_t next;  // kPart: where the next part's headers begin
};

// What `--boundary`, ending at `after`, is: the close delimiter (`--` follows), a delimiter line
// (spaces and tabs, then CRLF) or neither.
DelimiterKind Classify(std::string_view body, std::size_t after, std::size_t* next) {
  if (body.substr(after, 2) == "--") return DelimiterKind::kClose;
  std::size_t i = after;
  while (i < body.size() && IsSpace(body[i])) ++i;
  if (body.substr(i, 2) != "\r\n") return DelimiterKind::kNone;
  *next = i + 2;
  return DelimiterKind::kPart;
}

// The first delimiter at or after `from`, which begins a line: `--boundary` right at `from`, or
// the first `CRLF--boundary` (`needle`) after it that is a delimiter.
std::optional<Delimiter> FindDelimiter(std::string_view body, std::string_view needle,
                                       std::size_t from) {
  std::size_t next = 0;
  const std::string_view dash_boundary = needle.substr(2);
  if (body.substr(from).starts_with(dash_boundary)) {
    const DelimiterKind kind = Classify(body, from + dash_boundary.size(), &next);
    if (kind != DelimiterKind::kNone) return Delimiter{from, kind, next};
  }
  for (std::size_t at = body.find(needle, from); at != std::string_view::npos;
       at = body.find(needle, at + 1)) {
    const DelimiterKind kind = Classify(body, at + needle.size(), &next);
    if (kind != DelimiterKind::kNone) return Delimiter{at, kind, next};
  }
  return std::nullopt;
}

// The parameters of a Content-Disposition value into `part`.
Status ParseDisposition(std::string_view value, FormPart* part) {
  const std::size_t semicolon = value.find(';');
  const std::string_view type = Trim(value.substr(0, semicolon));
  if (!EqualsIgnoreCase(type, "form-data")) {
    return InvalidArgument(fmt::format("Content-Disposition {} is not form-data", Quote(type)));
  }
  auto params = ParseParameters(semicolon == std::string_view::npos ? std::string_view()
                                                                    : value.substr(semicolon));
  if (!params.ok()) return InvalidArgument("Content-Disposition: " + params.status().message());
  bool has_name = false;
  bool has_filename = false;
  for (const Parameter& param : *params) {
    const bool is_name = EqualsIgnoreCase(param.name, "name");
    if (!is_name && !EqualsIgnoreCase(param.name, "filename")) continue;  // filename* too
    bool& seen = is_name ? has_name : has_filename;
    if (seen) {
      return InvalidArgument(
          fmt::format("Content-Disposition has more than one {} parameter", Quote(param.name)));
    }
    seen = true;
    (is_name ? part->name : part->filename) = param.value;
  }
  if (!has_name) return InvalidArgument("Content-Disposition form-data has no name parameter");
  return Status::Ok();
}

// Parses the header block that begins at body[pos] into `part` and sets `*data_start` to the
// byte after its blank line. Errors say nothing of the part (the caller names it).
Status ParsePartHeaders(std::string_view body, std::size_t pos, std::size_t limit, FormPart* part,
                        std::size_t* data_start) {
  const std::size_t start = pos;
  bool has_disposition = false;
  bool has_content_type = false;
  while (true) {
    const std::size_t budget = limit - (pos - start);
    const std::size_t eol = body.substr(pos, budget).find('\n');
    if (eol == std::string_view::npos) {
      if (body.size() - pos <= budget) {
        return InvalidArgument("the body ends in the part's headers, before the close delimiter");
      }
      return InvalidArgument(fmt::format("its header block is over {} bytes", limit));
    }
    std::string_view line = body.substr(pos, eol);
    pos += eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if (IsSpace(line.front())) return InvalidArgument("a folded header line (not accepted)");
    const std::size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    if (colon == std::string_view::npos || name.empty() ||
        !std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return InvalidArgument(fmt::format("a malformed header line {}", Quote(line)));
    }
    const std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Content-Disposition")) {
      if (has_disposition) return InvalidArgument("more than one Content-Disposition header");
      has_disposition = true;
      RETURN_IF_ERROR(ParseDisposition(value, part));
    } else if (EqualsIgnoreCase(name, "Content-Type")) {
      if (has_content_type) return InvalidArgument("more than one Content-Type header");
      has_content_type = true;
      part->content_type = value;
    }
  }
  if (!has_disposition) return InvalidArgument("no Content-Disposition header");
  *data_start = pos;
  return Status::Ok();
}

}  // namespace

std::string MediaType(std::string_view content_type) {
  std::string media_type(Trim(content_type.substr(0, content_type.find(';'))));
  for (char& c : media_type) c = ToLower(c);
  return media_type;
}

StatusOr<std::vector<FormPart>> ParseMultipartForm(std::string_view content_type,
                                                   std::string_view body,
                                                   const MultipartLimits& limits) {
  ASSIGN_OR_RETURN(const std::string_view boundary, BoundaryOf(content_type));
  const std::string needle = fmt::format("\r\n--{}", boundary);
  const std::string_view dash_boundary = std::string_view(needle).substr(2);

  std::optional<Delimiter> delimiter = FindDelimiter(body, needle, 0);
  if (!delimiter) {
    return InvalidArgument(
        fmt::format("the body has no opening delimiter line {}", Quote(dash_boundary)));
  }

  std::vector<FormPart> parts;
  while (delimiter->kind == DelimiterKind::kPart) {
    const std::size_t number = parts.size() + 1;
    if (parts.size() == limits.max_parts) {
      return InvalidArgument(fmt::format("the form has more than {} parts", limits.max_parts));
    }
    FormPart part;
    std::size_t data_start = 0;
    const Status headers =
        ParsePartHeaders(body, delimiter->next, limits.max_part_header_bytes, &part, &data_start);
    if (!headers.ok())
      return InvalidArgument(fmt::format("part {}: {}", number, headers.message()));
    delimiter = FindDelimiter(body, needle, data_start);
    if (!delimiter) {
      return InvalidArgument(fmt::format("part {}: the body ends before the close delimiter {}",
                                         number, Quote(fmt::format("{}--", dash_boundary))));
    }
    part.data = body.substr(data_start, delimiter->begin - data_start);
    parts.push_back(part);
  }
  return parts;
}

}  // namespace switchyard::http
