#pragma once
// HTTP requests and replies as the router sees them: plain structs, independent of Beast, so the
// routing and KServe logic is tested without sockets.

#include <functional>
#include <memory>
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
  // Whether the client connected from this machine (a loopback address). Management calls
  // without a configured admin token are open only to such clients.
  bool peer_loopback = true;
  // Cancelled by the connection when the client goes away while the request is pending.
  std::shared_ptr<CancelToken> cancel;
  // The model an infer request's body was received for (Router::NewSharedBody), resolved then;
  // null otherwise, and the router resolves the route's model itself.
  std::shared_ptr<const ModelHandle> model;
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
};

// Called exactly once per request, from any thread.
using ReplyFn = std::function<void(HttpReply)>;

// The HTTP status for a failure class (e.g. ResourceExhausted -> 429).
unsigned HttpStatusOf(StatusCode code);

// {"error": message} with the mapped status; 429 carries Retry-After.
HttpReply ErrorReply(const Status& status);

// 200 with a JSON body.
HttpReply JsonReply(std::string body);

// Whether `request` uses method `want` (HEAD counts as GET). If not, answers it 405 with
// `Allow: <want>` and {"error": "method not allowed; use <want>"} and returns false.
bool Expect(Method want, const HttpRequest& request, const ReplyFn& reply);

}  // namespace switchyard::http
