#include "frontend/http/reply_head.h"

#include <boost/beast/http/status.hpp>
#include <charconv>
#include <string_view>

namespace switchyard::http {
namespace {

// Appends `value` without its control characters (HTAB stays: it is legal in a field value).
void AppendValue(std::string* out, std::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) continue;
    out->push_back(c);
  }
}

void AppendField(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ");
  AppendValue(out, value);
  out->append("\r\n");
}

void AppendNumber(std::string* out, std::size_t value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  out->append(digits, end);
}

}  // namespace

void WriteReplyHead(const HttpReply& reply, unsigned minor_version, bool keep_alive,
                    std::optional<std::size_t> content_length, std::string* out) {
  out->clear();
  out->append(minor_version == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  AppendNumber(out, reply.status);
  out->push_back(' ');
  const auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(reply.status));
  out->append(reason.data(), reason.size());
  out->append("\r\n");
  AppendField(out, "Server", "switchyard");
  AppendField(out, "Content-Type", reply.content_type);
  for (const auto& [name, value] : reply.headers) AppendField(out, name, value);
  if (minor_version != 0 && !keep_alive) AppendField(out, "Connection", "close");
  if (minor_version == 0 && keep_alive) AppendField(out, "Connection", "keep-alive");
  if (content_length) {
    out->append("Content-Length: ");
    AppendNumber(out, *content_length);
    out->append("\r\n");
  }
  out->append("\r\n");
}

}  // namespace switchyard::http
