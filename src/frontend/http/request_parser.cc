#include "frontend/http/request_parser.h"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "fmt/format.h"

namespace switchyard::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

bool IsChunked(std::string_view coding) {
  return beast::iequals(beast::string_view(coding.data(), coding.size()), "chunked");
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The transfer codings of every Transfer-Encoding field, in order, without parameters.
std::vector<std::string_view> TransferCodings(const bhttp::request_header<>& header) {
  std::vector<std::string_view> codings;
  auto [first, last] = header.equal_range(bhttp::field::transfer_encoding);
  for (auto it = first; it != last; ++it) {
    std::string_view list(it->value().data(), it->value().size());
    while (!list.empty()) {
      std::size_t comma = list.find(',');
      std::string_view element = list.substr(0, comma);
      element = Trim(element.substr(0, element.find(';')));
      if (!element.empty()) codings.push_back(element);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  return codings;
}

}  // namespace

RequestParser::RequestParser(std::size_t header_limit, std::size_t body_limit, MemoryCharge* charge)
    : header_limit_(header_limit), charge_(charge) {
  this->header_limit(static_cast<std::uint32_t>(header_limit));
  this->body_limit(body_limit);
}

void RequestParser::Reject(unsigned status, std::string message, beast::error_code& ec) {
  rejection_ = ParseRejection{status, std::move(message)};
  ec = bhttp::error::bad_transfer_encoding;  // any error ends the parse; rejection_ says why
}

void RequestParser::on_request_impl(bhttp::verb method, beast::string_view method_string,
                                    beast::string_view target, int version, beast::error_code& ec) {
  try {
    if (method == bhttp::verb::unknown) {
      header_.method_string(method_string);
    } else {
      header_.method(method);
    }
    header_.target(target);
  } catch (const std::length_error&) {
    ec = bhttp::error::header_limit;
    return;
  }
  header_.version(version);
}

void RequestParser::on_response_impl(int, beast::string_view, int, beast::error_code& ec) {
  ec = bhttp::error::bad_method;  // a request parser never sees a status line
}

void RequestParser::on_field_impl(bhttp::field name, beast::string_view name_string,
                                  beast::string_view value, beast::error_code& ec) {
  if (in_trailer_) {
    // Trailer fields are not used; their size is bounded like a header's.
    trailer_bytes_ += name_string.size() + value.size() + 4;
    if (trailer_bytes_ > header_limit_) ec = bhttp::error::header_limit;
    return;
  }
  if (name == bhttp::field::authorization && header_.count(bhttp::field::authorization) > 0) {
    return Reject(400, "more than one Authorization header", ec);
  }
  try {
    header_.insert(name, name_string, value);
  } catch (const std::length_error&) {
    ec = bhttp::error::header_limit;  // a name or value beyond what a field can hold (64 KiB)
  }
}

void RequestParser::on_header_impl(beast::error_code& ec) { CheckFraming(ec); }

void RequestParser::CheckFraming(beast::error_code& ec) {
  if (header_.count(bhttp::field::transfer_encoding) == 0) return;
  std::vector<std::string_view> codings = TransferCodings(header_);
  if (header_.version() < 11) {
    return Reject(400, "Transfer-Encoding in an HTTP/1.0 request", ec);
  }
  if (header_.count(bhttp::field::content_length) > 0) {
    return Reject(400, "a request may not have both Transfer-Encoding and Content-Length", ec);
  }
  if (codings.empty() || !IsChunked(codings.back())) {
    return Reject(400, "Transfer-Encoding must end in 'chunked'", ec);
  }
  if (codings.size() == 1) return;
  // More than one coding, the last chunked: the first says which refusal applies.
  if (IsChunked(codings.front())) {
    return Reject(400, "Transfer-Encoding names 'chunked' more than once", ec);
  }
  Reject(501,
         fmt::format("transfer coding '{}' is not supported; send the body plain or chunked",
                     codings.front()),
         ec);
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                      beast::error_code&) {
  if (content_length) content_length_ = *content_length;
}

std::size_t RequestParser::Append(beast::string_view bytes, beast::error_code& ec) {
  const std::size_t need = body_.size() + bytes.size();
  if (need > body_.capacity()) {
    std::size_t capacity = std::max({need, 2 * body_.capacity(), std::size_t{4096}});
    if (content_length_) capacity = std::min<std::uint64_t>(capacity, *content_length_);
    capacity = std::max(capacity, need);
    const std::size_t charged = capacity > kFreeBodyBytes ? capacity - kFreeBodyBytes : 0;
    if (charged > charged_capacity_) {
      if (!charge_->TryAdd(charged - charged_capacity_)) {
        Reject(503,
               "the server holds as much request data as its memory budget allows "
               "(--max-buffered-mb); retry later",
               ec);
        return 0;
      }
      charged_capacity_ = charged;
    }
    body_.reserve(capacity);
  }
  body_.append(bytes.data(), bytes.size());
  return bytes.size();
}

std::size_t RequestParser::on_body_impl(beast::string_view body, beast::error_code& ec) {
  return Append(body, ec);
}

void RequestParser::on_chunk_header_impl(std::uint64_t size, beast::string_view,
                                         beast::error_code&) {
  if (size == 0) in_trailer_ = true;  // the last chunk: what follows is the trailer section
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                              beast::error_code& ec) {
  return Append(body, ec);
}

void RequestParser::on_finish_impl(beast::error_code&) {}

}  // namespace switchyard::http
