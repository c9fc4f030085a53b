#include "frontend/http/repository_handler.h"

#include "core/thread_name.h"
#include "fmt/format.h"
#include "frontend/http/admin_token.h"
#include "spdlog/spdlog.h"

namespace switchyard::http {

RepositoryHandler::RepositoryHandler(Server* server, RepositoryOptions options)
    : server_(server), options_(std::move(options)) {
  thread_ = std::thread([this] {
    NameThisThread("sy-repository");
    Run();
  });
}

RepositoryHandler::~RepositoryHandler() {
  std::deque<Call> dropped = calls_.CloseAndTake();
  thread_.join();
  for (Call& call : dropped) call.reply(ErrorReply(Unavailable("the server is shutting down")));
}

void RepositoryHandler::Handle(const HttpRequest& request, std::string_view rest, ReplyFn reply) {
  if (auto refused = RefuseWithoutToken(request, options_.admin_token, "repository API")) {
    return reply(std::move(*refused));
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
  if (!Expect(Method::kPost, request, reply)) return;
  auto refused =
      calls_.Push(Call{.load = action == "load", .model = name, .reply = std::move(reply)});
  if (refused) refused->reply(ErrorReply(Unavailable("the server is shutting down")));
}

void RepositoryHandler::Run() {
  while (std::optional<Call> next = calls_.Pop()) {
    Call& call = *next;
    spdlog::info("repository: {} '{}'", call.load ? "load" : "unload", call.model);
    Status status = call.load ? server_->LoadModel(call.model)
                              : server_->UnloadModel(call.model, options_.unload_drain_timeout);
    if (!status.ok()) spdlog::error("repository: {}", status.message());
    call.reply(status.ok() ? JsonReply("{}") : ErrorReply(status));
  }
}

}  // namespace switchyard::http
