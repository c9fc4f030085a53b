#include "frontend/http/repository_handler.h"

#include "core/thread_name.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace switchyard::http {
namespace {

HttpReply EmptyJson() {
  HttpReply reply;
  reply.body = "{}";
  return reply;
}

}  // namespace

bool TokenMatches(const std::optional<std::string>& authorization, std::string_view token) {
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization || !authorization->starts_with(kBearer)) return false;
  std::string_view given = std::string_view(*authorization).substr(kBearer.size());
  if (token.empty() || given.size() != token.size()) return false;
  unsigned char diff = 0;  // no early exit: the time does not tell how much matched
  for (std::size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  }
  return diff == 0;
}

RepositoryHandler::RepositoryHandler(Server* server, RepositoryOptions options)
    : server_(server), options_(std::move(options)) {
  thread_ = std::thread([this] {
    NameThisThread("sy-repository");
    Run();
  });
}

RepositoryHandler::~RepositoryHandler() {
  std::deque<Call> dropped;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    dropped.swap(calls_);
  }
  cv_.SignalAll();
  thread_.join();
  for (Call& call : dropped) call.reply(ErrorReply(Unavailable("the server is shutting down")));
}

void RepositoryHandler::Handle(const HttpRequest& request, std::string_view rest, ReplyFn reply) {
  if (!options_.admin_token.empty() && !TokenMatches(request.authorization, options_.admin_token)) {
    HttpReply refused = ErrorReply(
        Unauthenticated("the repository API needs 'Authorization: Bearer <admin token>'"));
    refused.headers.emplace_back("WWW-Authenticate", "Bearer");
    return reply(std::move(refused));
  }
  auto slash = rest.rfind('/');
  std::string name(rest.substr(0, slash == std::string_view::npos ? 0 : slash));
  std::string_view action = slash == std::string_view::npos ? rest : rest.substr(slash + 1);
  if (name.empty() || name.find('/') != std::string::npos ||
      (action != "load" && action != "unload")) {
    return reply(ErrorReply(
        NotFound(fmt::format("no route POST /v2/repository/models/{} (expected {{model}}/load or "
                             "{{model}}/unload)",
                             rest))));
  }
  if (request.method != Method::kPost) {
    HttpReply refused = ErrorReply(InvalidArgument("use POST"));
    refused.status = 405;
    refused.headers.emplace_back("Allow", "POST");
    return reply(std::move(refused));
  }
  {
    MutexLock lock(&mu_);
    if (!stopping_) {
      calls_.push_back(Call{.load = action == "load", .model = name, .reply = std::move(reply)});
      cv_.Signal();
      return;
    }
  }
  reply(ErrorReply(Unavailable("the server is shutting down")));
}

void RepositoryHandler::Run() {
  while (true) {
    Call call;
    {
      MutexLock lock(&mu_);
      while (calls_.empty() && !stopping_) cv_.Wait(&mu_);
      if (stopping_) return;
      call = std::move(calls_.front());
      calls_.pop_front();
    }
    spdlog::info("repository: {} '{}'", call.load ? "load" : "unload", call.model);
    Status status = call.load ? server_->LoadModel(call.model)
                              : server_->UnloadModel(call.model, options_.unload_drain_timeout);
    if (!status.ok()) spdlog::error("repository: {}", status.message());
    call.reply(status.ok() ? EmptyJson() : ErrorReply(status));
  }
}

}  // namespace switchyard::http
