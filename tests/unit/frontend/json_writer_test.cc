#include "frontend/http/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace switchyard::http {
namespace {

TEST(JsonWriterTest, NestsAndSeparates) {
  std::string out;
  JsonWriter w(&out);
  w.StartObject();
  w.Member("a", "x");
  w.Key("b");
  w.StartArray();
  w.Int(1);
  w.StartObject();
  w.EndObject();
  w.StartArray();
  w.EndArray();
  w.Bool(true);
  w.Null();
  w.EndArray();
  w.Key("c");
  w.Bool(false);
  w.EndObject();
  EXPECT_EQ(out, R"({"a":"x","b":[1,{},[],true,null],"c":false})");
}

TEST(JsonWriterTest, TypedMembersWriteKeyAndValue) {
  std::string out;
  JsonWriter w(&out);
  w.StartObject();
  w.Member("s", "text");
  w.IntMember("i", -3);
  w.UintMember("u", 18446744073709551615u);
  w.BoolMember("b", true);
  w.DoubleMember("d", 0.5);
  w.EndObject();
  EXPECT_EQ(out, R"({"s":"text","i":-3,"u":18446744073709551615,"b":true,"d":0.5})");
}

TEST(JsonWriterTest, AppendsToExistingText) {
  std::string out = "prefix";
  JsonWriter w(&out);
  w.StartArray();
  w.Uint(3);
  w.EndArray();
  EXPECT_EQ(out, "prefix[3]");
}

TEST(JsonWriterTest, IntegersAtTheirLimits) {
  std::string out;
  JsonWriter w(&out);
  w.StartArray();
  w.Int(std::numeric_limits<int64_t>::min());
  w.Int(std::numeric_limits<int64_t>::max());
  w.Uint(std::numeric_limits<uint64_t>::max());
  w.Int(0);
  w.EndArray();
  EXPECT_EQ(out, "[-9223372036854775808,9223372036854775807,18446744073709551615,0]");
}

TEST(JsonWriterTest, FloatingPointIsShortestRoundTrip) {
  std::string out;
  JsonWriter w(&out);
  w.StartArray();
  w.Double(0.1);
  w.Float(0.1f);
  w.Double(static_cast<double>(0.1f));
  w.Double(1.0);
  w.Double(-2.5e-300);
  w.Float(std::numeric_limits<float>::max());
  w.Double(-0.0);
  w.EndArray();
  EXPECT_EQ(out, "[0.1,0.1,0.10000000149011612,1,-2.5e-300,3.4028235e+38,-0]");
}

TEST(JsonWriterTest, NanAndInfinityAsPythonWritesThem) {
  std::string out;
  JsonWriter w(&out);
  w.StartArray();
  w.Double(std::nan(""));
  w.Double(std::numeric_limits<double>::infinity());
  w.Float(-std::numeric_limits<float>::infinity());
  w.Float(std::nanf(""));
  w.EndArray();
  EXPECT_EQ(out, "[NaN,Infinity,-Infinity,NaN]");
}

TEST(JsonWriterTest, EscapesPerRfc8259) {
  std::string out;
  JsonWriter w(&out);
  w.String(std::string("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f", 14) + std::string(1, '\0'));
  EXPECT_EQ(out, R"("q\"b\\s/\b\f\n\r\t\u0001\u001f)"
                 "\x7f"
                 R"(\u0000")");
}

TEST(JsonWriterTest, KeysAreEscaped) {
  std::string out;
  JsonWriter w(&out);
  w.StartObject();
  w.Member("k\"\n", "v");
  w.EndObject();
  EXPECT_EQ(out, R"({"k\"\n":"v"})");
}

TEST(JsonWriterTest, ValidUtf8PassesThrough) {
  std::string out;
  JsonWriter w(&out);
  const std::string text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";  // café € 😀
  w.String(text);
  EXPECT_EQ(out, "\"" + text + "\"");
}

TEST(JsonWriterTest, InvalidUtf8IsReplaced) {
  std::string out;
  JsonWriter w(&out);
  w.String(
      "a\xff"
      "b\xc3");
  EXPECT_EQ(out,
            "\"a\xef\xbf\xbd"
            "b\xef\xbf\xbd\"");
}

TEST(JsonWriterTest, IsValidUtf8) {
  EXPECT_TRUE(JsonWriter::IsValidUtf8(""));
  EXPECT_TRUE(JsonWriter::IsValidUtf8("plain ascii"));
  EXPECT_TRUE(JsonWriter::IsValidUtf8("\xc3\xa9"));
  EXPECT_TRUE(JsonWriter::IsValidUtf8("\xed\x9f\xbf"));       // U+D7FF
  EXPECT_TRUE(JsonWriter::IsValidUtf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_FALSE(JsonWriter::IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(JsonWriter::IsValidUtf8("\xc0\x80"));          // overlong NUL
  EXPECT_FALSE(JsonWriter::IsValidUtf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(JsonWriter::IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(JsonWriter::IsValidUtf8("\xf0\x80\x80\xaf"));  // overlong
  EXPECT_FALSE(JsonWriter::IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(JsonWriter::IsValidUtf8("\xf5\x80\x80\x80"));  // invalid lead
  EXPECT_FALSE(JsonWriter::IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(JsonWriter::IsValidUtf8("\xe2\x28\xa1"));      // bad continuation
}

}  // namespace
}  // namespace switchyard::http
