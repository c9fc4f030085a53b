// WriteReplyHead writes what boost::beast::http writes for the same response (the server wrote
// its replies with Beast before), and no header value can end its line early.

#include "frontend/http/reply_head.h"

#include <gtest/gtest.h>

#include <boost/beast/http.hpp>
#include <sstream>
#include <string>

namespace switchyard::http {
namespace {

namespace bhttp = boost::beast::http;

// The head Beast writes for `reply`, set up as the server did with Beast.
std::string BeastHead(const HttpReply& reply, unsigned version, bool keep, std::size_t length) {
  bhttp::response<bhttp::string_body> response(static_cast<bhttp::status>(reply.status), version);
  response.set(bhttp::field::server, "switchyard");
  response.set(bhttp::field::content_type, reply.content_type);
  for (const auto& [name, value] : reply.headers) response.set(name, value);
  response.keep_alive(keep);
  response.content_length(length);
  std::ostringstream text;
  text << response.base();
  return text.str();
}

std::string Head(const HttpReply& reply, unsigned version, bool keep, std::size_t length) {
  std::string out = "left over from the last reply";
  WriteReplyHead(reply, version == 10 ? 0 : 1, keep, length, &out);
  return out;
}

TEST(ReplyHeadTest, MatchesBeastForEveryVersionAndConnectionChoice) {
  HttpReply reply;
  reply.body = R"({"model_name":"simple"})";
  for (unsigned version : {10u, 11u}) {
    for (bool keep : {true, false}) {
      EXPECT_EQ(Head(reply, version, keep, reply.body.size()),
                BeastHead(reply, version, keep, reply.body.size()))
          << "HTTP/" << version << " keep-alive " << keep;
    }
  }
  EXPECT_EQ(Head(reply, 11, true, 23),
            "HTTP/1.1 200 OK\r\nServer: switchyard\r\nContent-Type: application/json\r\n"
            "Content-Length: 23\r\n\r\n");
}

TEST(ReplyHeadTest, MatchesBeastForErrorsAndExtraHeaders) {
  HttpReply refused;
  refused.status = 429;
  refused.headers = {{"Retry-After", "1"}};
  EXPECT_EQ(Head(refused, 11, true, 40), BeastHead(refused, 11, true, 40));
  HttpReply not_allowed;
  not_allowed.status = 405;
  not_allowed.headers = {{"Allow", "POST"}, {"WWW-Authenticate", "Bearer"}};
  EXPECT_EQ(Head(not_allowed, 11, false, 0), BeastHead(not_allowed, 11, false, 0));
  HttpReply binary;
  binary.content_type = "application/octet-stream";
  binary.headers = {{"Inference-Header-Content-Length", "187"}};
  EXPECT_EQ(Head(binary, 11, true, 1 << 20), BeastHead(binary, 11, true, 1 << 20));
  HttpReply text;
  text.status = 503;
  text.content_type = "text/plain; version=0.0.4";
  EXPECT_EQ(Head(text, 10, false, 5), BeastHead(text, 10, false, 5));
}

TEST(ReplyHeadTest, AValueCannotEndItsLine) {
  HttpReply reply;
  reply.content_type = "text/html\r\nSet-Cookie: stolen=1\r\n\r\n<script>";
  reply.headers = {{"X-Note", "a\tb\x7f\nc"}};
  const std::string head = Head(reply, 11, true, 8);
  EXPECT_EQ(head,
            "HTTP/1.1 200 OK\r\nServer: switchyard\r\n"
            "Content-Type: text/htmlSet-Cookie: stolen=1<script>\r\nX-Note: a\tbc\r\n"
            "Content-Length: 8\r\n\r\n");
}

}  // namespace
}  // namespace switchyard::http
