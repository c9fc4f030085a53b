#include <gtest/gtest.h>

#include <string>

#include "switchyard/backend_sdk/json.h"

namespace switchyard::sdk {
namespace {

TEST(BackendSdkJsonQuoteTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
  EXPECT_EQ(JsonQuote("\r\x1f\x7f"), "\"\\r\\u001f\x7f\"");
  EXPECT_EQ(JsonQuote(std::string("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(BackendSdkJsonQuoteTest, PassesOtherBytesThrough) {
  EXPECT_EQ(JsonQuote(""), "\"\"");
  EXPECT_EQ(JsonQuote("plain text / 'x'"), "\"plain text / 'x'\"");
  EXPECT_EQ(JsonQuote("\xc3\xa9"), "\"\xc3\xa9\"");  // UTF-8 stays as it is
  EXPECT_EQ(JsonQuote("\xff"), "\"\xff\"");          // so does invalid UTF-8
}

}  // namespace
}  // namespace switchyard::sdk
