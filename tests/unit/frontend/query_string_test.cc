// ParseQuery: splitting, percent-decoding, '+', empty pairs, malformed escapes and the limit.
#include "frontend/http/query_string.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::http {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

Params ParseOk(std::string_view target, std::size_t max_params = 256) {
  auto parsed = ParseQuery(target, max_params);
  EXPECT_TRUE(parsed.ok()) << target << ": " << parsed.status().ToString();
  return parsed.ok() ? *parsed : Params{};
}

TEST(QueryStringTest, NoQuery) {
  EXPECT_TRUE(ParseOk("/v2/models/m/predict").empty());
  EXPECT_TRUE(ParseOk("/v2/models/m/predict?").empty());
  EXPECT_TRUE(ParseOk("").empty());
}

TEST(QueryStringTest, PairsInOrder) {
  EXPECT_EQ(ParseOk("/p?b=2&a=1&b=3"), (Params{{"b", "2"}, {"a", "1"}, {"b", "3"}}));
  // Only the first '?' and each pair's first '=' split.
  EXPECT_EQ(ParseOk("/p?q=a?b=c=d"), (Params{{"q", "a?b=c=d"}}));
}

TEST(QueryStringTest, DecodesPercentEscapesAndPlus) {
  EXPECT_EQ(ParseOk("/p?na%6De=x%20y+z%2Bw&%E2%82%ac=%3d%26"),
            (Params{{"name", "x y z+w"}, {"\xE2\x82\xAC", "=&"}}));
  EXPECT_EQ(ParseOk("/p?a+b=%00"), (Params{{"a b", std::string(1, '\0')}}));
}

TEST(QueryStringTest, KeysWithoutValuesAndEmptyPairs) {
  EXPECT_EQ(ParseOk("/p?a=1&&b=2&"), (Params{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(ParseOk("/p?&&&"), Params{});
  EXPECT_EQ(ParseOk("/p?flag&x=&=v"), (Params{{"flag", ""}, {"x", ""}, {"", "v"}}));
}

TEST(QueryStringTest, RefusesMalformedEscapes) {
  for (std::string_view target :
       {"/p?a=%", "/p?a=%4", "/p?a=%zz", "/p?a=%4g&b=1", "/p?%=1", "/p?ok=1&b%2=x"}) {
    auto parsed = ParseQuery(target);
    ASSERT_FALSE(parsed.ok()) << target;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("malformed percent-escape"), std::string::npos);
  }
  // The offset in the query is named.
  EXPECT_NE(ParseQuery("/p?ok=1&b=x%2").status().message().find("offset 8"), std::string::npos);
}

TEST(QueryStringTest, Limit) {
  EXPECT_EQ(ParseOk("/p?a&b&c", 3).size(), 3u);
  EXPECT_EQ(ParseOk("/p?a&&b&c&", 3).size(), 3u);  // empty pairs do not count
  auto parsed = ParseQuery("/p?a&b&c&d", 3);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("more than 3 parameters"), std::string::npos);
  // The limit is checked before decoding: too many pairs wins over a malformed escape later.
  EXPECT_NE(ParseQuery("/p?a&b&c&d&%", 3).status().message().find("more than 3"),
            std::string::npos);
  std::string many = "/p?";
  for (int i = 0; i < 257; ++i) many += "k=v&";
  EXPECT_FALSE(ParseQuery(many).ok());
  many.resize(many.size() - 4);
  EXPECT_EQ(ParseOk(many).size(), 256u);
}

}  // namespace
}  // namespace switchyard::http
