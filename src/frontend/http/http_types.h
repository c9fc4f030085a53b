#pragma once
// HTTP requests and replies as the router sees them: plain structs, independent of Beast, so the
// routing and KServe logic is tested without sockets.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/infer.h"
#include "switchyard/server.h"
#include "switchyard/status.h"

namespace switchyard::http {

enum class Method { kGet, kHead, kPost, kDelete, kOther };

struct HttpReply;

struct HttpRequest {
  Method method = Method::kGet;
  std::string target;  // path and query, as received
  RequestBody
      body;  // received into shared memory for a large infer request (Router::NewSharedBody)
  // Inference-Header-Content-Length as received (unparsed), if present.
  std::optional<std::string> inference_header_length;
  std::optional<std::string> authorization;    // the Authorization header, if present
  std::string content_type;                    // the Content-Type header ("" if absent)
  std::optional<std::string> prefer;           // the Prefer header (RFC 7240), if present
  std::optional<std::string> idempotency_key;  // the Idempotency-Key header, if present
  std::string accept;                          // the Accept header of a POST ("" if absent)
  // The endpoint-load-metrics-format header of a POST (an ORCA load report asked for), if present.
  std::optional<std::string> load_report_format;
  // Whether the client connected from this machine (a loopback address). Management calls
  // without a configured admin token are open only to such clients.
  bool peer_loopback = true;
  // Cancelled by the connection when the client goes away while the request is pending.
  std::shared_ptr<CancelToken> cancel;
  // Hears the progress of the inference this request runs (InferRequest::progress); may be null.
  std::shared_ptr<const ProgressFn> progress;
  // Hears each partial response of that inference (InferRequest::partial), as the reply the
  // route would answer with for it (encoded like the final answer), in order; may be null.
  std::function<void(HttpReply)> on_partial;
  // The model an infer request's body was received for (Router::NewSharedBody), resolved then;
  // null otherwise, and the router resolves the route's model itself.
  std::shared_ptr<const ModelHandle> model;
};

// The body of a reply sent as it is produced (Server-Sent Events): the connection writes the
// head with no Content-Length and `Connection: close`, then each chunk as it is written, and
// closes the connection once the stream has ended and everything is sent. Thread-safe.
class ReplyStream {
 public:
  // The producer's side. Write after End, or after the client went away, does nothing.
  void Write(std::string chunk);
  void End();
  // Whether the client went away (the producer may stop producing).
  bool client_gone() const;

  // The connection's side. `wake` runs (on the producer's thread) whenever chunks wait or the
  // stream ends after it was attached; at once if that is so already.
  void Attach(std::function<void()> wake);
  // Runs `gone` once when the client goes away (at once if it has); replaces an earlier one.
  void OnClientGone(std::function<void()> gone);
  // What waits to be sent, and whether the stream ended (nothing follows `*ended` chunks).
  std::string Take(bool* ended);
  void ClientGone();

 private:
  void Wake();

  mutable std::mutex mu_;  // std::mutex: a leaf taken by both sides (see src/core/mutex.h)
  std::string pending_;
  bool ended_ = false;
  bool gone_ = false;
  std::function<void()> wake_;
  std::function<void()> on_gone_;
};

struct HttpReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Bytes sent after `body` as they lie (no copy), e.g. binary output tensors; `tail_owner`
  // keeps them alive until the reply has been written.
  std::vector<std::span<const std::byte>> body_tail;
  std::shared_ptr<const void> tail_owner;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  bool close = false;  // close the connection after this reply
  // When set, the body is sent as it is produced (`body` first, then the stream), and the
  // connection closes after it.
  std::shared_ptr<ReplyStream> stream;
};

// Called exactly once per request, from any thread.
using ReplyFn = std::function<void(HttpReply)>;

// The HTTP status for a failure class (e.g. ResourceExhausted -> 429).
unsigned HttpStatusOf(StatusCode code);

// {"error": message} with the mapped status; 429 carries Retry-After.
HttpReply ErrorReply(const Status& status);

// 200 with a JSON body.
HttpReply JsonReply(std::string body);

// The reply's whole body, as a client reads it after the head: `body` (moved out), then the
// parts of `body_tail` appended.
std::string TakeWholeBody(HttpReply& reply);

// Whether `request` uses method `want` (HEAD counts as GET). If not, answers it 405 with
// `Allow: <want>` and {"error": "method not allowed; use <want>"} and returns false.
bool Expect(Method want, const HttpRequest& request, const ReplyFn& reply);

}  // namespace switchyard::http
