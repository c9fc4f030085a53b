#pragma once
// Server-Sent Events (text/event-stream): the framing the job events and a streaming /predict
// share, and the reply of a request whose client asked for its progress as it runs.

#include <memory>
#include <string>
#include <string_view>

#include "frontend/http/http_types.h"
#include "switchyard/infer.h"

namespace switchyard::http {

// One event: `event: <name>`, then `data: <data>` (REQUIRES: `data` holds no newline; JSON from
// JsonWriter never does), then a blank line.
std::string ServerSentEvent(std::string_view name, std::string_view data);

// The data of a progress event: {"id": ... (when `id` is not empty), "progress", "message"}.
std::string ProgressData(double fraction, std::string_view message, std::string_view id = {});

// The data of the `result` event that ends a streamed request, and of a `partial` one: {"id"
// (when `id` is not empty), "status", "content_type", and "body": the body itself when it is
// JSON, a string when it is UTF-8 text, else "body_base64"}. An error reply's body is JSON
// ({"error": ...}), so it comes as "body".
std::string ResultData(HttpReply reply, std::string_view id = {});

// What a streamed request needs: `progress` and `on_partial` for the request it runs
// (HttpRequest::progress and ::on_partial) and `reply` to answer it with.
struct EventStreamReply {
  std::shared_ptr<const ProgressFn> progress;
  ReplyFn on_partial;
  ReplyFn reply;
};

// Answers a request as Server-Sent Events (POST .../predict with `Accept: text/event-stream`):
// each progress report of its model as `event: progress` (ProgressData), each partial response
// as `event: partial` (ResultData), in the order they came, then its answer as `event: result`
// (ResultData), then the stream ends. The stream starts (200, through `reply`) at the first report,
// partial response or successful answer; a request that fails before any of them is answered by its
// plain error reply instead, so a client still sees 429, 400 or 404 as such. A client that leaves
// the stream cancels the request through `cancel` (may be null).
EventStreamReply StreamAsEvents(ReplyFn reply, std::shared_ptr<CancelToken> cancel);

}  // namespace switchyard::http
