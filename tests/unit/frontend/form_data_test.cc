// ParseMultipartForm and MediaType: forms as browsers and curl send them, boundaries, content
// that resembles a delimiter, and every refusal the header promises.
#include "frontend/http/form_data.h"

#include <gtest/gtest.h>

#include <string>

#include "fmt/format.h"

namespace switchyard::http {
namespace {

constexpr std::string_view kType = "multipart/form-data; boundary=XyZ";

// A part with the given header lines and content, preceded by its delimiter line.
std::string Part(std::string_view headers, std::string_view data) {
  return "--XyZ\r\n" + std::string(headers) + "\r\n" + std::string(data) + "\r\n";
}

const std::string kClose = "--XyZ--\r\n";

StatusOr<std::vector<FormPart>> Parse(std::string_view body, const MultipartLimits& limits = {}) {
  return ParseMultipartForm(kType, body, limits);
}

// The error message of a parse that must fail with InvalidArgument.
std::string ErrorOf(const StatusOr<std::vector<FormPart>>& parsed) {
  EXPECT_FALSE(parsed.ok());
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  return parsed.status().message();
}

bool Inside(std::string_view view, std::string_view body) {
  return view.data() >= body.data() && view.data() + view.size() <= body.data() + body.size();
}

TEST(MediaTypeTest, LowerCasesAndDropsParameters) {
  EXPECT_EQ(MediaType("Application/JSON; charset=x"), "application/json");
  EXPECT_EQ(MediaType("  text/plain  "), "text/plain");
  EXPECT_EQ(MediaType("multipart/form-data;boundary=a"), "multipart/form-data");
  EXPECT_EQ(MediaType(""), "");
  EXPECT_EQ(MediaType("; boundary=a"), "");
}

TEST(MultipartFormTest, FieldsAndFiles) {
  const std::string body =
      Part("Content-Disposition: form-data; name=\"model\"\r\n", "resnet") +
      Part(
          "Content-Disposition: form-data; name=\"image\"; filename=\"cat.png\"\r\n"
          "Content-Type: image/png\r\n",
          "\x89PNG") +
      Part("Content-Disposition: form-data; name=empty_type\r\nContent-Type:\r\n", "x") + kClose;
  auto parts = Parse(body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "model");
  EXPECT_EQ((*parts)[0].filename, "");
  EXPECT_EQ((*parts)[0].content_type, "");
  EXPECT_EQ((*parts)[0].data, "resnet");
  EXPECT_EQ((*parts)[1].name, "image");
  EXPECT_EQ((*parts)[1].filename, "cat.png");
  EXPECT_EQ((*parts)[1].content_type, "image/png");
  EXPECT_EQ((*parts)[1].data, "\x89PNG");
  EXPECT_EQ((*parts)[2].name, "empty_type");  // a token value
  EXPECT_EQ((*parts)[2].content_type, "");
  for (const FormPart& part : *parts) {
    EXPECT_TRUE(Inside(part.name, body));
    EXPECT_TRUE(Inside(part.data, body));
  }
  EXPECT_TRUE(Inside((*parts)[1].filename, body));
  EXPECT_TRUE(Inside((*parts)[1].content_type, body));
}

TEST(MultipartFormTest, CurlStyleBody) {
  // What `curl -F model=resnet -F 'input=@x.bin'` sends.
  const std::string boundary = "------------------------d74496d66958873e";
  const std::string body = "--" + boundary +
                           "\r\n"
                           "Content-Disposition: form-data; name=\"model\"\r\n"
                           "\r\n"
                           "resnet\r\n"
                           "--" +
                           boundary +
                           "\r\n"
                           "Content-Disposition: form-data; name=\"input\"; filename=\"x.bin\"\r\n"
                           "Content-Type: application/octet-stream\r\n"
                           "\r\n" +
                           std::string("\x00\x01\r\n\xff", 5) + "\r\n--" + boundary + "--\r\n";
  auto parts = ParseMultipartForm("multipart/form-data; boundary=" + boundary, body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "model");
  EXPECT_EQ((*parts)[0].data, "resnet");
  EXPECT_EQ((*parts)[1].name, "input");
  EXPECT_EQ((*parts)[1].filename, "x.bin");
  EXPECT_EQ((*parts)[1].content_type, "application/octet-stream");
  EXPECT_EQ((*parts)[1].data, std::string_view("\x00\x01\r\n\xff", 5));
}

TEST(MultipartFormTest, QuotedAndCaseInsensitiveBoundaryParameter) {
  const std::string body =
      "--a b:c\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--a b:c--";
  for (std::string_view type : {"multipart/form-data; boundary=\"a b:c\"",
                                "Multipart/Form-Data;charset=utf-8;  BOUNDARY = \"a b:c\" ;"}) {
    auto parts = ParseMultipartForm(type, body);
    ASSERT_TRUE(parts.ok()) << type << ": " << parts.status().ToString();
    ASSERT_EQ(parts->size(), 1u);
    EXPECT_EQ((*parts)[0].data, "1");
  }
}

TEST(MultipartFormTest, RefusesABadContentType) {
  const std::string body = Part("Content-Disposition: form-data; name=a\r\n", "1") + kClose;
  const std::string too_long(71, 'b');
  const std::string longest(70, 'b');
  EXPECT_NE(ErrorOf(ParseMultipartForm("application/json", body)).find("not multipart/form-data"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseMultipartForm("multipart/form-data", body)).find("no boundary"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseMultipartForm("multipart/form-data; boundary=\"\"", body))
                .find("1 to 70 characters"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseMultipartForm("multipart/form-data; boundary=" + too_long, body))
                .find("1 to 70 characters, not 71"),
            std::string::npos);
  EXPECT_TRUE(
      ParseMultipartForm("multipart/form-data; boundary=" + longest, "--" + longest + "--").ok());
  EXPECT_NE(ErrorOf(ParseMultipartForm("multipart/form-data; boundary=\"a@b\"", body)).find("0x40"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseMultipartForm("multipart/form-data; boundary=\"ab \"", body))
                .find("ends in a space"),
            std::string::npos);
  EXPECT_NE(ErrorOf(ParseMultipartForm("multipart/form-data; boundary=XyZ; boundary=XyZ", body))
                .find("more than one boundary"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(ParseMultipartForm("multipart/form-data; boundary=\"XyZ", body)).find("unterminated"),
      std::string::npos);
  EXPECT_NE(ErrorOf(ParseMultipartForm("multipart/form-data; boundary", body)).find("no '=value'"),
            std::string::npos);
}

TEST(MultipartFormTest, ContentMayHoldLineBreaksAndPiecesOfTheBoundary) {
  // Line breaks, NUL and 0xff bytes, and `CRLF--XyZ` followed by what makes no delimiter.
  const std::string data = std::string("a\r\nb\n\r\r\n--\r\n--Xy\r\n-XyZ\r\n--XyZz\r\n--XyZ-x") +
                           std::string(1, '\0') + "\xff\r\n--XyZ \tz\r\n\r\nXyZ--";
  const std::string body = Part("Content-Disposition: form-data; name=bin\r\n", data) + kClose;
  auto parts = Parse(body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, data);
}

TEST(MultipartFormTest, EmptyContent) {
  const std::string body = Part("Content-Disposition: form-data; name=a\r\n", "") +
                           Part("Content-Disposition: form-data; name=b\r\n", "") + kClose;
  auto parts = Parse(body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].data, "");
  EXPECT_EQ((*parts)[1].data, "");

  // Without the CRLF before the next delimiter (as Go's reader accepts).
  auto lenient = Parse("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n--XyZ--");
  ASSERT_TRUE(lenient.ok()) << lenient.status().ToString();
  ASSERT_EQ(lenient->size(), 1u);
  EXPECT_EQ((*lenient)[0].data, "");
}

TEST(MultipartFormTest, NoPartsIsAnEmptyForm) {
  auto parts = Parse("--XyZ--\r\n");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_TRUE(parts->empty());
}

TEST(MultipartFormTest, PreambleEpilogueAndTransportPaddingAreIgnored) {
  const std::string body =
      "This is a preamble.\r\n--XyZ is not a delimiter here\r\n--XyZ \t\r\n"
      "Content-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZ\t\r\n"
      "Content-Disposition: form-data; name=b\r\n\r\n2\r\n--XyZ--  epilogue\r\n--XyZ\r\nmore";
  auto parts = Parse(body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].data, "1");
  EXPECT_EQ((*parts)[1].data, "2");
}

TEST(MultipartFormTest, NoOpeningDelimiter) {
  EXPECT_NE(ErrorOf(Parse("")).find("no opening delimiter"), std::string::npos);
  EXPECT_NE(ErrorOf(Parse("x--XyZ\r\n")).find("no opening delimiter"), std::string::npos);
  EXPECT_NE(ErrorOf(Parse("--XyZz\r\n")).find("no opening delimiter"), std::string::npos);
  EXPECT_NE(ErrorOf(Parse("--XyZ")).find("no opening delimiter"), std::string::npos);
}

TEST(MultipartFormTest, MissingCloseDelimiter) {
  const std::string part = Part("Content-Disposition: form-data; name=a\r\n", "1");
  // Ends after the content, after a delimiter line, in the headers, at a delimiter without "--".
  for (const std::string& body :
       {part, part + "--XyZ\r\n", part + "--XyZ\r\nContent-Dis", part + "--XyZ", part + "--XyZ-"}) {
    EXPECT_NE(ErrorOf(Parse(body)).find("close delimiter"), std::string::npos) << body;
  }
}

TEST(MultipartFormTest, RefusesAPartWithoutAFormDataName) {
  EXPECT_NE(ErrorOf(Parse(Part("Content-Disposition: form-data; filename=\"x\"\r\n", "1") + kClose))
                .find("part 1: Content-Disposition form-data has no name"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse(Part("Content-Disposition: form-data; name=a\r\n", "1") +
                          Part("Content-Type: text/plain\r\n", "2") + kClose))
                .find("part 2: no Content-Disposition"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse(Part("", "1") + kClose)).find("part 1: no Content-Disposition"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse(Part("Content-Disposition: attachment; name=a\r\n", "1") + kClose))
                .find("not form-data"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse(Part("Content-Disposition: form-data; name=a; name=b\r\n", "1") + kClose))
                .find("more than one 'name'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse(Part("Content-Disposition: form-data; name=a\r\n"
                               "content-disposition: form-data; name=b\r\n",
                               "1") +
                          kClose))
                .find("more than one Content-Disposition"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse(Part("Content-Disposition: form-data; name=a\r\n"
                               "Content-Type: a/b\r\nContent-Type: a/b\r\n",
                               "1") +
                          kClose))
                .find("more than one Content-Type"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse(Part("Content-Disposition: form-data; name=\"a\r\n", "1") + kClose))
                .find("unterminated"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse(Part("Content-Disposition: form-data; name=a b\r\n", "1") + kClose))
                .find("expected ';'"),
            std::string::npos);
}

TEST(MultipartFormTest, RefusesMalformedHeaderLines) {
  EXPECT_NE(
      ErrorOf(Parse(Part("Content-Disposition: form-data; name=a\r\nno colon\r\n", "1") + kClose))
          .find("malformed header line"),
      std::string::npos);
  EXPECT_NE(ErrorOf(Parse(Part("Content-Disposition : form-data; name=a\r\n", "1") + kClose))
                .find("malformed header line"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse(Part("Content-Disposition: form-data; name=a\r\nX-A: 1\r\n 2\r\n", "1") +
                          kClose))
                .find("folded"),
            std::string::npos);
}

TEST(MultipartFormTest, TooManyParts) {
  std::string body;
  for (int i = 0; i < 3; ++i) body += Part("Content-Disposition: form-data; name=a\r\n", "1");
  body += kClose;
  MultipartLimits limits;
  limits.max_parts = 3;
  EXPECT_TRUE(Parse(body, limits).ok());
  limits.max_parts = 2;
  EXPECT_NE(ErrorOf(Parse(body, limits)).find("more than 2 parts"), std::string::npos);
}

TEST(MultipartFormTest, HeaderBlockLimit) {
  const std::string headers = "Content-Disposition: form-data; name=a\r\nX-Pad: 0123456789\r\n";
  const std::string body = Part(headers, "1") + kClose;
  MultipartLimits limits;
  limits.max_part_header_bytes = headers.size() + 2;  // the blank line counts
  auto parts = Parse(body, limits);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ((*parts)[0].data, "1");
  limits.max_part_header_bytes = headers.size() + 1;
  EXPECT_NE(ErrorOf(Parse(body, limits)).find(fmt::format("over {} bytes", headers.size() + 1)),
            std::string::npos);
  // A header block with no end is refused at the limit, not searched to the end of the body.
  limits.max_part_header_bytes = 64;
  const std::string endless = "--XyZ\r\nX-Pad: " + std::string(1000, 'p');
  EXPECT_NE(ErrorOf(Parse(endless, limits)).find("part 1: its header block is over 64 bytes"),
            std::string::npos);
}

TEST(MultipartFormTest, HeaderNamesAndParametersAreCaseInsensitive) {
  const std::string body =
      Part(
          "content-disposition: FORM-DATA; NAME=\"a\"; FileName=\"f.txt\"; filename*=UTF-8''x\r\n"
          "CONTENT-TYPE:   text/plain; charset=utf-8  \r\nX-Other: ignored\r\n",
          "1") +
      kClose;
  auto parts = Parse(body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "a");
  EXPECT_EQ((*parts)[0].filename, "f.txt");
  EXPECT_EQ((*parts)[0].content_type, "text/plain; charset=utf-8");
}

TEST(MultipartFormTest, BareLineFeedsEndPartHeaderLines) {
  auto parts = Parse(
      "--XyZ\r\nContent-Disposition: form-data; name=a\nContent-Type: t/p\n\n1\r\n"
      "--XyZ--");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].content_type, "t/p");
  EXPECT_EQ((*parts)[0].data, "1");
}

TEST(MultipartFormTest, DuplicateNamesAreKeptInOrder) {
  const std::string body = Part("Content-Disposition: form-data; name=x\r\n", "1") +
                           Part("Content-Disposition: form-data; name=y\r\n", "2") +
                           Part("Content-Disposition: form-data; name=x\r\n", "3") + kClose;
  auto parts = Parse(body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "x");
  EXPECT_EQ((*parts)[0].data, "1");
  EXPECT_EQ((*parts)[1].name, "y");
  EXPECT_EQ((*parts)[2].name, "x");
  EXPECT_EQ((*parts)[2].data, "3");
}

TEST(MultipartFormTest, QuotedValuesAreReturnedAsWritten) {
  const std::string body =
      Part("Content-Disposition: form-data; name=\"a;b\\\"c\"; filename=\"C:\\dir\\%22f%22\"\r\n",
           "1") +
      kClose;
  auto parts = Parse(body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ((*parts)[0].name, "a;b\\\"c");
  EXPECT_EQ((*parts)[0].filename, "C:\\dir\\%22f%22");
}

}  // namespace
}  // namespace switchyard::http
