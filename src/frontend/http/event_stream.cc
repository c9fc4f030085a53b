#include "frontend/http/event_stream.h"

#include <utility>

#include "core/mutex.h"
#include "frontend/http/json_writer.h"
#include "simdjson.h"

namespace switchyard::http {
namespace {

constexpr std::string_view kBase64Digits =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16 |
                       static_cast<uint8_t>(bytes[i + 1]) << 8 | static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kBase64Digits[(v >> shift) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kBase64Digits[(v >> 18) & 63]);
    out.push_back(kBase64Digits[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kBase64Digits[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool IsJson(std::string_view content_type, const std::string& body) {
  if (!content_type.starts_with("application/json")) return false;
  simdjson::dom::parser parser;
  return parser.parse(body).error() == simdjson::SUCCESS;
}

// The state a streamed request's progress and answer share.
struct Streamer {
  Mutex mu;
  ReplyFn reply;                                       // called once
  std::shared_ptr<ReplyStream> stream GUARDED_BY(mu);  // once started
  bool answered GUARDED_BY(mu) = false;
  std::shared_ptr<CancelToken> cancel;

  // Writes `event` to the stream, starting it first if need be: then returns the 200 head to
  // pass to `reply` (outside the lock). Nothing after the answer. Under the lock (ReplyStream's
  // own is a leaf), so no event overtakes another or the answer.
  std::optional<HttpReply> Write(const std::string& event) REQUIRES(mu) {
    if (answered) return std::nullopt;  // a report racing with the answer
    std::optional<HttpReply> head;
    if (!stream) head = Start();
    stream->Write(event);
    return head;
  }

  // Starts the stream: returns the 200 head to pass to `reply` (outside the lock).
  HttpReply Start() REQUIRES(mu) {
    stream = std::make_shared<ReplyStream>();
    stream->OnClientGone([token = cancel] {
      if (token) token->Cancel();
    });
    HttpReply head;
    head.content_type = "text/event-stream";
    head.headers.emplace_back("Cache-Control", "no-store");
    head.stream = stream;
    return head;
  }
};

}  // namespace

std::string ServerSentEvent(std::string_view name, std::string_view data) {
  std::string event;
  event.reserve(name.size() + data.size() + 16);
  event.append("event: ").append(name).append("\ndata: ").append(data).append("\n\n");
  return event;
}

std::string ProgressData(double fraction, std::string_view message, std::string_view id) {
  std::string data;
  JsonWriter w(&data);
  w.StartObject();
  if (!id.empty()) w.Member("id", id);
  w.DoubleMember("progress", fraction);
  w.Member("message", message);
  w.EndObject();
  return data;
}

std::string ResultData(HttpReply reply, std::string_view id) {
  const std::string body = TakeWholeBody(reply);
  std::string data;
  JsonWriter w(&data);
  w.StartObject();
  if (!id.empty()) w.Member("id", id);
  w.UintMember("status", reply.status);
  w.Member("content_type", reply.content_type);
  if (IsJson(reply.content_type, body)) {
    w.Key("body");
    w.Raw(body);
  } else if (reply.content_type.starts_with("text/") && JsonWriter::IsValidUtf8(body)) {
    w.Member("body", body);
  } else {
    w.Member("body_base64", Base64(body));
  }
  w.EndObject();
  return data;
}

EventStreamReply StreamAsEvents(ReplyFn reply, std::shared_ptr<CancelToken> cancel) {
  auto streamer = std::make_shared<Streamer>();
  streamer->reply = std::move(reply);
  streamer->cancel = std::move(cancel);
  EventStreamReply out;
  out.progress =
      std::make_shared<const ProgressFn>([streamer](double fraction, std::string_view message) {
        const std::string event = ServerSentEvent("progress", ProgressData(fraction, message));
        std::optional<HttpReply> head;
        {
          MutexLock lock(&streamer->mu);
          head = streamer->Write(event);
        }
        if (head) streamer->reply(std::move(*head));
      });
  out.on_partial = [streamer](HttpReply partial) {
    const std::string event = ServerSentEvent("partial", ResultData(std::move(partial)));
    std::optional<HttpReply> head;
    {
      MutexLock lock(&streamer->mu);
      head = streamer->Write(event);
    }
    if (head) streamer->reply(std::move(*head));
  };
  out.reply = [streamer](HttpReply answer) {
    std::optional<HttpReply> head;
    {
      MutexLock lock(&streamer->mu);
      streamer->answered = true;
      if (!streamer->stream && answer.status >= 400) {
        head = std::move(answer);  // no stream yet: the plain error, with its status
      } else {
        if (!streamer->stream) head = streamer->Start();
        streamer->stream->Write(ServerSentEvent("result", ResultData(std::move(answer))));
        streamer->stream->End();
      }
    }
    if (head) streamer->reply(std::move(*head));
  };
  return out;
}

}  // namespace switchyard::http
