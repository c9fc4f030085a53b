#pragma once
// The status line and header fields of a reply, written straight into a string: what
// boost::beast::http would write for the same response, without building a beast response (whose
// fields allocate one node each). Used for every reply the HTTP server sends.

#include <cstddef>
#include <optional>
#include <string>

#include "frontend/http/http_types.h"

namespace switchyard::http {

// Replaces `*out` with the head of `reply`: the status line for HTTP/1.`minor_version` with the
// status's standard reason, `Server: switchyard`, `Content-Type`, the reply's extra headers in
// order, `Connection: close` (HTTP/1.1, !keep_alive) or `Connection: keep-alive` (HTTP/1.0,
// keep_alive), `Content-Length: content_length` (none when nullopt: a body that ends when the
// connection closes, which `keep_alive` false must then say), and the blank line. A control
// character in a header value (a model's content type, say) is left out, so that no value can end
// its line.
void WriteReplyHead(const HttpReply& reply, unsigned minor_version, bool keep_alive,
                    std::optional<std::size_t> content_length, std::string* out);

}  // namespace switchyard::http
