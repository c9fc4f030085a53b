// RequestParser: what a client's bytes can and cannot make the HTTP front end do. Every case of
// the adversarial probe that crashed or bloated the server (giant fields and trailers, claimed
// lengths, framing a proxy could read differently) is answered with an error here.
#include "frontend/http/request_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace switchyard::http {
namespace {

namespace bhttp = boost::beast::http;
using ::testing::HasSubstr;

constexpr std::size_t kHeaderLimit = 16 << 10;
constexpr std::size_t kBodyLimit = 64 << 20;

struct Parsed {
  boost::beast::error_code ec;
  std::size_t consumed = 0;
};

// Feeds `bytes` to `parser` as one buffer, as often as it makes progress.
Parsed Feed(RequestParser& parser, const std::string& bytes) {
  Parsed parsed;
  parser.eager(true);
  while (parsed.consumed < bytes.size() && !parser.is_done()) {
    std::size_t n = parser.put(
        boost::asio::buffer(bytes.data() + parsed.consumed, bytes.size() - parsed.consumed),
        parsed.ec);
    parsed.consumed += n;
    if (parsed.ec || n == 0) break;
  }
  return parsed;
}

class RequestParserTest : public ::testing::Test {
 protected:
  MemoryBudget budget_{std::size_t{1} << 30};
  MemoryCharge charge_{&budget_};
  RequestParser parser_{kHeaderLimit, kBodyLimit, &charge_};
};

TEST_F(RequestParserTest, ParsesAChunkedRequestWithATrailer) {
  auto parsed =
      Feed(parser_,
           "POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           "Authorization: Bearer t\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: y\r\n\r\n");
  ASSERT_FALSE(parsed.ec) << parsed.ec.message();
  EXPECT_TRUE(parser_.is_done());
  EXPECT_EQ(parser_.body(), "hello world");
  EXPECT_EQ(parser_.header().target(), "/v2/models/m/infer");
  EXPECT_EQ(parser_.header()[bhttp::field::authorization], "Bearer t");
  EXPECT_EQ(parser_.header().count("X-T"), 0u);  // trailer fields are dropped
}

TEST_F(RequestParserTest, ATrailerFieldBeyondWhatAFieldHoldsIsAnErrorNotAnException) {
  std::string request =
      "POST /v2/health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " +
      std::string(65534, 't') + "\r\n\r\n";
  auto parsed = Feed(parser_, request);
  EXPECT_EQ(parsed.ec, bhttp::error::header_limit);
}

TEST_F(RequestParserTest, AHugeTrailerNameIsAnErrorNotAnException) {
  std::string request =
      "POST /v2/health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" +
      std::string(70000, 'T') + ": x\r\n\r\n";
  auto parsed = Feed(parser_, request);
  EXPECT_EQ(parsed.ec, bhttp::error::header_limit);
}

TEST(RequestParserLimits, AHeaderFieldBeyond64KiBIsAnErrorEvenUnderALargeHeaderLimit) {
  MemoryBudget budget(1 << 20);
  MemoryCharge charge(&budget);
  RequestParser parser(1 << 20, kBodyLimit, &charge);
  auto parsed =
      Feed(parser, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'v') + "\r\n\r\n");
  EXPECT_EQ(parsed.ec, bhttp::error::header_limit);
}

struct FramingCase {
  const char* fields;
  unsigned status;
  const char* message;
};

class FramingTest : public RequestParserTest, public ::testing::WithParamInterface<FramingCase> {};

TEST_P(FramingTest, IsRefusedBeforeTheBodyIsRead) {
  // What follows the header would be a second request to a server that took the body as empty.
  std::string request = std::string("POST /v2/health/live HTTP/1.1\r\nHost: x\r\n") +
                        GetParam().fields + "\r\nGET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n";
  auto parsed = Feed(parser_, request);
  ASSERT_TRUE(parsed.ec);
  ASSERT_TRUE(parser_.rejection().has_value()) << parsed.ec.message();
  EXPECT_EQ(parser_.rejection()->status, GetParam().status);
  EXPECT_THAT(parser_.rejection()->message, HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Smuggling, FramingTest,
    ::testing::Values(
        FramingCase{"Transfer-Encoding: identity\r\n", 400, "must end in 'chunked'"},
        FramingCase{"Transfer-Encoding: chunked, identity\r\n", 400, "must end in 'chunked'"},
        FramingCase{"Transfer-Encoding: xchunked\r\n", 400, "must end in 'chunked'"},
        FramingCase{"Transfer-Encoding: gzip, chunked\r\n", 501, "'gzip' is not supported"},
        FramingCase{"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", 501,
                    "'gzip' is not supported"},
        FramingCase{"Transfer-Encoding: chunked, chunked\r\n", 400, "more than once"},
        FramingCase{"Authorization: Bearer a\r\nAuthorization: Bearer b\r\n", 400,
                    "more than one Authorization"}));

TEST_F(RequestParserTest, TransferEncodingWithContentLengthIsRefused) {
  auto parsed =
      Feed(parser_,
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(parsed.ec);
  EXPECT_FALSE(parser_.is_done());
}

TEST_F(RequestParserTest, TransferEncodingInHttp10IsRefused) {
  auto parsed = Feed(parser_, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  ASSERT_TRUE(parser_.rejection().has_value()) << parsed.ec.message();
  EXPECT_EQ(parser_.rejection()->status, 400u);
}

TEST_F(RequestParserTest, AClaimedLengthAloneAllocatesNothing) {
  auto parsed = Feed(parser_,
                     "POST /v2/health/live HTTP/1.1\r\nHost: x\r\nContent-Length: "
                     "67108864\r\n\r\n" +
                         std::string(100, 'b'));
  EXPECT_FALSE(parsed.ec) << parsed.ec.message();
  EXPECT_FALSE(parser_.is_done());
  EXPECT_EQ(parser_.body().size(), 100u);
  EXPECT_LT(parser_.body().capacity(), 64u << 10);
  EXPECT_EQ(charge_.bytes(), 0u);  // within the free allowance
}

TEST(RequestParserBudget, ABodyBeyondTheBudgetIsRefusedWith503) {
  MemoryBudget budget(64 << 10);
  MemoryCharge charge(&budget);
  RequestParser parser(kHeaderLimit, kBodyLimit, &charge);
  std::string request = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n";
  auto parsed = Feed(parser, request + std::string(1 << 20, 'b'));
  ASSERT_TRUE(parsed.ec);
  ASSERT_TRUE(parser.rejection().has_value());
  EXPECT_EQ(parser.rejection()->status, 503u);
  EXPECT_LE(budget.used(), budget.limit());
  EXPECT_LT(parser.body().capacity(), 128u << 10);
}

TEST(RequestParserBudget, WhatABodyChargedIsGivenBackWithTheCharge) {
  MemoryBudget budget(8 << 20);
  {
    MemoryCharge charge(&budget);
    RequestParser parser(kHeaderLimit, kBodyLimit, &charge);
    std::string body(1 << 20, 'b');
    auto parsed =
        Feed(parser, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n" + body);
    ASSERT_FALSE(parsed.ec) << parsed.ec.message();
    EXPECT_EQ(parser.body(), body);
    EXPECT_GE(budget.used(), (1u << 20) - RequestParser::kFreeBodyBytes);
  }
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryBudgetTest, ChargesWithinTheLimitAndForcesBeyondIt) {
  MemoryBudget budget(100);
  EXPECT_TRUE(budget.TryCharge(60));
  EXPECT_FALSE(budget.TryCharge(41));
  EXPECT_TRUE(budget.TryCharge(40));
  EXPECT_FALSE(budget.TryCharge(1));
  budget.ForceCharge(50);  // a reply: held whatever the total
  EXPECT_EQ(budget.used(), 150u);
  EXPECT_FALSE(budget.TryCharge(1));
  budget.Release(150);
  EXPECT_TRUE(budget.TryCharge(100));
  EXPECT_FALSE(budget.TryCharge(SIZE_MAX));
}

}  // namespace
}  // namespace switchyard::http
