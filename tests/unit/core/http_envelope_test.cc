// The HTTP envelope: the request element's exact bytes, the response decoder's refusals,
// ContentTypeOfFile, and the layout as the Python reader and writer (clients/python/switchyard.py)
// see it.
#include "core/http_envelope.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "switchyard/tensor.h"

namespace switchyard {
namespace {

using namespace std::string_literals;
using ::testing::HasSubstr;

std::string AsString(const std::vector<std::byte>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// `value` as `bytes` little-endian bytes, written out by hand rather than by the code under test.
std::string Le(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return out;
}

std::string Str(std::string_view s) { return Le(s.size(), 4) + std::string(s); }

TEST(RequestEnvelopeTest, ExactBytes) {
  RequestEnvelope envelope;
  envelope.content_type = "t/x";
  envelope.params = {{"k", "v"}};
  const std::string data = "AB\0C"s;
  envelope.parts.push_back({"n", "f.png", "image/png", data});
  std::vector<std::byte> out;
  ASSERT_TRUE(AppendRequestEnvelopeElement(envelope, out).ok());

  // 4 magic + 4 version + 7 content type + 4 nparams + 10 param + 4 nparts
  // + 5 name + 9 filename + 13 content type + 8 size + 4 data = 72 bytes after the prefix.
  const std::string expected =
      "\x48\0\0\0"s  // the BYTES element's length
      "SYRQ"
      "\x01\0\0\0"s  // version
      "\x03\0\0\0t/x"s
      "\x01\0\0\0"s  // one parameter
      "\x01\0\0\0k\x01\0\0\0v"s
      "\x01\0\0\0"s  // one part
      "\x01\0\0\0n"s
      "\x05\0\0\0f.png"s
      "\x09\0\0\0image/png"s
      "\x04\0\0\0\0\0\0\0AB\0C"s;
  EXPECT_EQ(AsString(out), expected);
}

TEST(RequestEnvelopeTest, LayoutOfSeveralParamsAndParts) {
  RequestEnvelope envelope;
  envelope.content_type = "multipart/form-data; boundary=b";
  envelope.params = {{"lang", "en"}, {"empty", ""}, {"lang", "fr"}};
  const std::string png = "\x89PNG\r\n\x1a\n\0"s;  // parts view their data: it must outlive them
  envelope.parts.push_back({"image", "cat.png", "image/png", png});
  envelope.parts.push_back({"question", "", "", "what is it?"});
  envelope.parts.push_back({"", "", "", ""});
  std::vector<std::byte> out;
  ASSERT_TRUE(AppendRequestEnvelopeElement(envelope, out).ok());

  std::string element = "SYRQ" + Le(1, 4) + Str("multipart/form-data; boundary=b") + Le(3, 4) +
                        Str("lang") + Str("en") + Str("empty") + Str("") + Str("lang") + Str("fr") +
                        Le(3, 4);
  element += Str("image") + Str("cat.png") + Str("image/png") + Le(9, 8) + "\x89PNG\r\n\x1a\n\0"s;
  element += Str("question") + Str("") + Str("") + Le(11, 8) + "what is it?";
  element += Str("") + Str("") + Str("") + Le(0, 8);
  EXPECT_EQ(AsString(out), Le(element.size(), 4) + element);

  // It is one well-formed BYTES element.
  auto count = CountBytesElements(out);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);
}

TEST(RequestEnvelopeTest, EmptyEnvelope) {
  std::vector<std::byte> out;
  ASSERT_TRUE(AppendRequestEnvelopeElement(RequestEnvelope{}, out).ok());
  EXPECT_EQ(AsString(out), Le(20, 4) + "SYRQ" + Le(1, 4) + Le(0, 4) + Le(0, 4) + Le(0, 4));
}

TEST(RequestEnvelopeTest, AppendsAfterWhatIsThere) {
  std::vector<std::byte> out;
  AppendBytesElement("first", out);
  RequestEnvelope envelope;
  envelope.parts.push_back({"", "", "text/plain", "x"});
  ASSERT_TRUE(AppendRequestEnvelopeElement(envelope, out).ok());
  std::vector<std::string> elements;
  ASSERT_TRUE(ForEachBytesElement(out, [&](std::string_view e) { elements.emplace_back(e); }).ok());
  ASSERT_EQ(elements.size(), 2u);
  EXPECT_EQ(elements[0], "first");
  EXPECT_EQ(elements[1], "SYRQ" + Le(1, 4) + Str("") + Le(0, 4) + Le(1, 4) + Str("") + Str("") +
                             Str("text/plain") + Le(1, 8) + "x");
}

// Over 4 GiB without allocating it: 4096 parts that all view the same 1 MiB. The size is checked
// before anything is written, so the data is never read.
TEST(RequestEnvelopeTest, RefusesOver4GiB) {
  const std::string mebibyte(1 << 20, 'x');
  RequestEnvelope envelope;
  envelope.parts.assign(4096, EnvelopePart{"p", "", "", mebibyte});
  std::vector<std::byte> out;
  AppendBytesElement("kept", out);
  const std::vector<std::byte> before = out;
  Status status = AppendRequestEnvelopeElement(envelope, out);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("exceeds 4 GiB"));
  EXPECT_EQ(out, before);
}

// A response element, built by hand.
std::string ResponseElement(std::string_view content_type, std::string_view body) {
  return "SYRS" + Le(1, 4) + Str(content_type) + Le(body.size(), 8) + std::string(body);
}

TEST(ResponseEnvelopeTest, DecodesAWellFormedElement) {
  const std::string element = ResponseElement("image/png", "\x89PNG\0\xff"s);
  auto decoded = DecodeResponseEnvelope(element);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->content_type, "image/png");
  EXPECT_EQ(decoded->body, "\x89PNG\0\xff"s);
  // Views into the element, not copies.
  EXPECT_EQ(decoded->body.data(), element.data() + element.size() - 6);
}

TEST(ResponseEnvelopeTest, EmptyContentTypeAndBody) {
  auto decoded = DecodeResponseEnvelope(ResponseElement("", ""));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->content_type, "");
  EXPECT_EQ(decoded->body, "");
}

struct BadResponse {
  std::string label;
  std::string element;
  std::string message;  // a part of the expected message
};

class ResponseEnvelopeRejectionTest : public testing::TestWithParam<BadResponse> {};

TEST_P(ResponseEnvelopeRejectionTest, IsInvalidArgument) {
  auto decoded = DecodeResponseEnvelope(GetParam().element);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(), HasSubstr("not a response envelope"));
  EXPECT_THAT(decoded.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Rejections, ResponseEnvelopeRejectionTest,
    testing::Values(
        BadResponse{"Empty", "", "no SYRS magic"},
        BadResponse{"ShortMagic", "SYR", "no SYRS magic"},
        BadResponse{"RequestMagic", "SYRQ" + Le(1, 4) + Str("") + Le(0, 8), "no SYRS magic"},
        BadResponse{"PlainBody", "hello world", "no SYRS magic"},
        BadResponse{"WrongVersion", "SYRS" + Le(2, 4) + Str("") + Le(0, 8),
                    "version 2 (expected 1)"},
        BadResponse{"TruncatedVersion", "SYRS\x01\0"s, "version"},
        BadResponse{"TruncatedContentTypeLength", "SYRS" + Le(1, 4) + "\x03\0"s,
                    "truncated content type"},
        BadResponse{"TruncatedContentType", "SYRS" + Le(1, 4) + Le(10, 4) + "text/",
                    "truncated content type"},
        BadResponse{"NoBodySize", "SYRS" + Le(1, 4) + Str("a/b"), "body size"},
        BadResponse{"TruncatedBodySize", "SYRS" + Le(1, 4) + Str("a/b") + "\x05\0\0"s, "body size"},
        BadResponse{"BodyShorterThanSize", "SYRS" + Le(1, 4) + Str("a/b") + Le(10, 8) + "hello",
                    "body size"},
        BadResponse{"BodyLongerThanSize", "SYRS" + Le(1, 4) + Str("a/b") + Le(3, 8) + "hello",
                    "body size"},
        BadResponse{"HugeBodySize", "SYRS" + Le(1, 4) + Str("a/b") + Le(~uint64_t{0}, 8) + "x",
                    "body size"}),
    [](const testing::TestParamInfo<BadResponse>& info) { return info.param.label; });

TEST(ContentTypeOfFileTest, KnownExtensionsAnyCase) {
  EXPECT_EQ(ContentTypeOfFile("image.png"), "image/png");
  EXPECT_EQ(ContentTypeOfFile("page.PNG"), "image/png");
  EXPECT_EQ(ContentTypeOfFile("photo.JpEg"), "image/jpeg");
  EXPECT_EQ(ContentTypeOfFile("photo.jpg"), "image/jpeg");
  EXPECT_EQ(ContentTypeOfFile("question.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(ContentTypeOfFile("body.json"), "application/json");
  EXPECT_EQ(ContentTypeOfFile("mesh.glb"), "model/gltf-binary");
  EXPECT_EQ(ContentTypeOfFile("archive.v2.pdf"), "application/pdf");  // the last extension
}

TEST(ContentTypeOfFileTest, NoOrUnknownExtension) {
  EXPECT_EQ(ContentTypeOfFile("README"), "application/octet-stream");
  EXPECT_EQ(ContentTypeOfFile(""), "application/octet-stream");
  EXPECT_EQ(ContentTypeOfFile("file."), "application/octet-stream");
  EXPECT_EQ(ContentTypeOfFile("data.xyz"), "application/octet-stream");
  EXPECT_EQ(ContentTypeOfFile("data.tar.gz"), "application/octet-stream");
  EXPECT_EQ(ContentTypeOfFile("png"), "application/octet-stream");
  EXPECT_EQ(ContentTypeOfFile("data.pngx"), "application/octet-stream");
}

// Cross-language: the Python reader decodes what AppendRequestEnvelopeElement writes, and
// DecodeResponseEnvelope reads what the Python writer writes.

constexpr char kPython[] = "/usr/bin/python3";

class PythonEnvelopeTest : public testing::Test {
 protected:
  void SetUp() override {
    if (access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " not found";
    char pattern[] = "/tmp/switchyard_envelope_XXXXXX";
    const int fd = mkstemp(pattern);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = pattern;
  }
  void TearDown() override {
    if (!path_.empty()) unlink(path_.c_str());
  }

  // Runs `script` (no single quotes) with clients/python on the path and the temp file as
  // sys.argv[1]; returns its stdout, and its exit status in *exit_status.
  std::string RunPython(const std::string& script, int* exit_status) {
    const std::string command = std::string("PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=") +
                                SWITCHYARD_PYTHON_CLIENTS_DIR + " " + kPython + " -c '" + script +
                                "' " + path_ + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return "popen failed";
    std::string output;
    char buffer[4096];
    for (std::size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) output.append(buffer, n);
    const int status = pclose(pipe);
    *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return output;
  }

  std::string path_;
};

TEST_F(PythonEnvelopeTest, PythonDecodesTheRequestElement) {
  RequestEnvelope envelope;
  envelope.content_type = "multipart/form-data; boundary=b";
  envelope.params = {{"lang", "en"}, {"q", "a b"}};
  const std::string png = "\x89PNG\0\xff"s;  // parts view their data: it must outlive them
  envelope.parts.push_back({"image", "cat.png", "image/png", png});
  envelope.parts.push_back({"question", "", "", "caf\xc3\xa9"});
  std::vector<std::byte> element;
  ASSERT_TRUE(AppendRequestEnvelopeElement(envelope, element).ok());
  {
    std::ofstream file(path_, std::ios::binary);
    // The element without its BYTES length prefix, as the runner hands it to the reader.
    file.write(reinterpret_cast<const char*>(element.data()) + 4,
               static_cast<std::streamsize>(element.size() - 4));
  }
  constexpr char kScript[] =
      "import json, sys, switchyard\n"
      "r = switchyard.decode_request_envelope(open(sys.argv[1], \"rb\").read())\n"
      "print(json.dumps({\"content_type\": r.content_type, \"params\": r.params, \"raw\": r.raw,\n"
      "  \"parts\": [[p.name, p.filename, p.content_type, p.data.hex()] for p in r.parts]},\n"
      "  sort_keys=True))\n";
  int exit_status = 0;
  const std::string output = RunPython(kScript, &exit_status);
  ASSERT_EQ(exit_status, 0) << output;
  EXPECT_EQ(output,
            "{\"content_type\": \"multipart/form-data; boundary=b\", \"params\": {\"lang\": "
            "\"en\", \"q\": \"a b\"}, \"parts\": [[\"image\", \"cat.png\", \"image/png\", "
            "\"89504e4700ff\"], [\"question\", \"\", \"\", \"636166c3a9\"]], \"raw\": false}\n");
}

TEST_F(PythonEnvelopeTest, DecodesThePythonResponseElement) {
  constexpr char kScript[] =
      "import sys, switchyard\n"
      "e = switchyard.encode_response_envelope(\"image/png\", b\"\\x89PNG\\x00\\xff\")\n"
      "open(sys.argv[1], \"wb\").write(e)\n";
  int exit_status = 0;
  const std::string output = RunPython(kScript, &exit_status);
  ASSERT_EQ(exit_status, 0) << output;
  std::ifstream file(path_, std::ios::binary);
  const std::string element((std::istreambuf_iterator<char>(file)),
                            std::istreambuf_iterator<char>());
  auto decoded = DecodeResponseEnvelope(element);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->content_type, "image/png");
  EXPECT_EQ(decoded->body, "\x89PNG\0\xff"s);
}

}  // namespace
}  // namespace switchyard
