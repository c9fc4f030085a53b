#pragma once
// The HTTP/1.1 request parser of a connection: Beast's basic_parser with our own handling of
// what a client controls, so that no request can make it throw or allocate from a claim.
//  - A header field longer than Beast can store (64 KiB) is a header_limit error, not an
//    exception; so is a trailer section longer than the header limit. Trailer fields are
//    checked and dropped (nothing here reads them).
//  - The body grows as its bytes arrive (never reserved from Content-Length); growth beyond
//    kFreeBodyBytes is charged to the connection's MemoryCharge, and a refused charge ends the
//    parse with a 503 rejection.
//  - Framing a proxy could read differently is refused (RFC 9112 §6.1, §6.3): a
//    Transfer-Encoding whose last coding is not chunked (400), a coding other than chunked
//    (501), Transfer-Encoding together with Content-Length (400); so is a second Authorization
//    header (400).
// A refusal sets `rejection()` and ends the parse with an error; the connection answers it and
// closes.
//
// Thread-safety: none (one connection's strand).

#include <boost/beast/http.hpp>
#include <cstddef>
#include <optional>
#include <string>

#include "frontend/http/memory_budget.h"

namespace switchyard::http {

struct ParseRejection {
  unsigned status;
  std::string message;
};

class RequestParser : public boost::beast::http::basic_parser<true> {
 public:
  // Body bytes a request may hold without charging the budget (like the header buffer, bounded by
  // the connection count).
  static constexpr std::size_t kFreeBodyBytes = 16 << 10;

  // REQUIRES: `charge` outlives the parser.
  RequestParser(std::size_t header_limit, std::size_t body_limit, MemoryCharge* charge);

  boost::beast::http::request_header<>& header() { return header_; }
  std::string& body() { return body_; }
  const std::optional<ParseRejection>& rejection() const { return rejection_; }

 private:
  void on_request_impl(boost::beast::http::verb method, boost::beast::string_view method_string,
                       boost::beast::string_view target, int version,
                       boost::beast::error_code& ec) override;
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::beast::error_code& ec) override;
  void on_header_impl(boost::beast::error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         boost::beast::error_code& ec) override;
  std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view extensions,
                            boost::beast::error_code& ec) override;
  std::size_t on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body,
                                 boost::beast::error_code& ec) override;
  void on_finish_impl(boost::beast::error_code& ec) override;

  // Refuses the request: `status` and `message` are what the client is answered.
  void Reject(unsigned status, std::string message, boost::beast::error_code& ec);
  // Appends body bytes, growing the body geometrically and charging what it grows by.
  std::size_t Append(boost::beast::string_view bytes, boost::beast::error_code& ec);
  // Checks the framing fields once the header is complete.
  void CheckFraming(boost::beast::error_code& ec);

  const std::size_t header_limit_;
  MemoryCharge* const charge_;
  boost::beast::http::request_header<> header_;
  std::string body_;
  std::size_t charged_capacity_ = 0;  // body capacity beyond kFreeBodyBytes already charged
  std::optional<std::uint64_t> content_length_;
  bool in_trailer_ = false;
  std::size_t trailer_bytes_ = 0;
  std::optional<ParseRejection> rejection_;
};

}  // namespace switchyard::http
