// Server-Sent Events framing and a streamed request's reply (POST .../predict with
// Accept: text/event-stream), without sockets: the reply function records what it is given.
#include "frontend/http/event_stream.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace switchyard::http {
namespace {

HttpReply Reply(unsigned status, std::string content_type, std::string body) {
  HttpReply reply;
  reply.status = status;
  reply.content_type = std::move(content_type);
  reply.body = std::move(body);
  return reply;
}

TEST(EventStreamTest, EventsAndTheirData) {
  EXPECT_EQ(ServerSentEvent("state", "{\"a\":1}"), "event: state\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(ProgressData(0.5, "half"), R"({"progress":0.5,"message":"half"})");
  EXPECT_EQ(ProgressData(1, "", "j1"), R"({"id":"j1","progress":1,"message":""})");
}

TEST(EventStreamTest, AResultCarriesJsonAsItIsTextAsAStringAndBytesInBase64) {
  EXPECT_EQ(ResultData(Reply(200, "application/json", R"({"y": [1, 2]})")),
            R"({"status":200,"content_type":"application/json","body":{"y": [1, 2]}})");
  EXPECT_EQ(ResultData(Reply(200, "text/plain", "x"), "j1"),
            R"({"id":"j1","status":200,"content_type":"text/plain","body":"x"})");
  EXPECT_EQ(
      ResultData(Reply(200, "text/plain; charset=utf-8", "h\xC3\xA9\n")),
      "{\"status\":200,\"content_type\":\"text/plain; charset=utf-8\",\"body\":\"h\xC3\xA9\\n\"}");
  // Base64 of 3, 2 and 1 trailing bytes.
  EXPECT_EQ(ResultData(Reply(200, "model/obj", "Man")),
            R"({"status":200,"content_type":"model/obj","body_base64":"TWFu"})");
  EXPECT_EQ(ResultData(Reply(200, "application/octet-stream", std::string("Ma\0", 3))),
            R"({"status":200,"content_type":"application/octet-stream","body_base64":"TWEA"})");
  EXPECT_EQ(ResultData(Reply(200, "x/y", "Ma")),
            R"({"status":200,"content_type":"x/y","body_base64":"TWE="})");
  EXPECT_EQ(ResultData(Reply(200, "x/y", "M")),
            R"({"status":200,"content_type":"x/y","body_base64":"TQ=="})");
  // JSON that does not parse, or text that is not UTF-8, goes as bytes.
  EXPECT_EQ(ResultData(Reply(200, "application/json", "{")),
            R"({"status":200,"content_type":"application/json","body_base64":"ew=="})");
  EXPECT_EQ(ResultData(Reply(200, "text/plain", "\xFF")),
            R"({"status":200,"content_type":"text/plain","body_base64":"/w=="})");
}

// Collects what a streamed request answers: the replies given to the connection, and the
// stream's text so far.
struct Answered {
  std::vector<HttpReply> replies;
  std::string Streamed() {
    bool ended = false;
    text += replies.at(0).stream->Take(&ended);
    this->ended = ended;
    return text;
  }
  std::string text;
  bool ended = false;
};

TEST(EventStreamTest, ProgressStartsTheStreamAndTheResultEndsIt) {
  Answered answered;
  auto cancel = std::make_shared<CancelToken>();
  EventStreamReply streamed =
      StreamAsEvents([&](HttpReply r) { answered.replies.push_back(std::move(r)); }, cancel);
  (*streamed.progress)(0.25, "a quarter");
  ASSERT_EQ(answered.replies.size(), 1u);
  const HttpReply& head = answered.replies[0];
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.content_type, "text/event-stream");
  ASSERT_NE(head.stream, nullptr);
  (*streamed.progress)(0.5, "half");
  streamed.reply(Reply(200, "application/json", R"({"y":1})"));
  (*streamed.progress)(0.9, "too late");  // after the answer: dropped
  EXPECT_EQ(answered.Streamed(),
            "event: progress\ndata: {\"progress\":0.25,\"message\":\"a quarter\"}\n\n"
            "event: progress\ndata: {\"progress\":0.5,\"message\":\"half\"}\n\n"
            "event: result\ndata: {\"status\":200,\"content_type\":\"application/json\","
            "\"body\":{\"y\":1}}\n\n");
  EXPECT_TRUE(answered.ended);
  EXPECT_EQ(answered.replies.size(), 1u);  // the connection was answered once
  EXPECT_FALSE(cancel->cancelled());
}

TEST(EventStreamTest, PartialResponsesStartTheStreamAndComeInOrderBeforeTheResult) {
  Answered answered;
  EventStreamReply streamed =
      StreamAsEvents([&](HttpReply r) { answered.replies.push_back(std::move(r)); }, nullptr);
  streamed.on_partial(Reply(200, "application/json", R"({"page":1})"));
  ASSERT_EQ(answered.replies.size(), 1u);
  EXPECT_EQ(answered.replies[0].content_type, "text/event-stream");
  (*streamed.progress)(0.5, "half");
  streamed.on_partial(Reply(200, "text/plain", "page 2"));
  streamed.reply(Reply(200, "application/json", R"({"y":1})"));
  streamed.on_partial(Reply(200, "text/plain", "late"));  // after the answer: dropped
  EXPECT_EQ(answered.Streamed(),
            "event: partial\ndata: {\"status\":200,\"content_type\":\"application/json\","
            "\"body\":{\"page\":1}}\n\n"
            "event: progress\ndata: {\"progress\":0.5,\"message\":\"half\"}\n\n"
            "event: partial\ndata: {\"status\":200,\"content_type\":\"text/plain\","
            "\"body\":\"page 2\"}\n\n"
            "event: result\ndata: {\"status\":200,\"content_type\":\"application/json\","
            "\"body\":{\"y\":1}}\n\n");
  EXPECT_TRUE(answered.ended);
  EXPECT_EQ(answered.replies.size(), 1u);
}

TEST(EventStreamTest, AnErrorBeforeAnyProgressIsThePlainErrorReply) {
  Answered answered;
  EventStreamReply streamed =
      StreamAsEvents([&](HttpReply r) { answered.replies.push_back(std::move(r)); }, nullptr);
  streamed.reply(ErrorReply(ResourceExhausted("the queue is full")));
  ASSERT_EQ(answered.replies.size(), 1u);
  EXPECT_EQ(answered.replies[0].status, 429u);
  EXPECT_EQ(answered.replies[0].stream, nullptr);
  (*streamed.progress)(0.5, "after the answer");  // nothing more
  EXPECT_EQ(answered.replies.size(), 1u);
}

TEST(EventStreamTest, ASuccessWithoutProgressAndAnErrorAfterItAreStreamed) {
  for (unsigned status : {200u, 500u}) {
    Answered answered;
    EventStreamReply streamed =
        StreamAsEvents([&](HttpReply r) { answered.replies.push_back(std::move(r)); }, nullptr);
    if (status == 500) (*streamed.progress)(0.1, "started");
    streamed.reply(status == 200 ? Reply(200, "text/plain", "ok")
                                 : ErrorReply(Internal("the model broke")));
    ASSERT_EQ(answered.replies.size(), 1u) << status;
    EXPECT_EQ(answered.replies[0].status, 200u) << status;  // the stream's own status
    const std::string text = answered.Streamed();
    EXPECT_NE(text.find("event: result\ndata: {\"status\":" + std::to_string(status)),
              std::string::npos)
        << text;
    EXPECT_TRUE(answered.ended);
  }
}

TEST(EventStreamTest, AClientThatLeavesTheStreamCancelsTheRequest) {
  Answered answered;
  auto cancel = std::make_shared<CancelToken>();
  EventStreamReply streamed =
      StreamAsEvents([&](HttpReply r) { answered.replies.push_back(std::move(r)); }, cancel);
  (*streamed.progress)(0.1, "started");
  ASSERT_EQ(answered.replies.size(), 1u);
  answered.replies[0].stream->ClientGone();
  EXPECT_TRUE(cancel->cancelled());
}

}  // namespace
}  // namespace switchyard::http
