#include "cli/serve_command.h"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "cli/device_flags.h"
#include "frontend/agent/agent_check.h"
#include "frontend/http/descriptor_limit.h"
#include "frontend/http/http_server.h"
#include "frontend/http/router.h"
#include "frontend/http/tls_config.h"
#ifdef SWITCHYARD_WITH_GRPC
#include "frontend/grpc/grpc_server.h"
#endif
#include "spdlog/spdlog.h"
#include "switchyard/server.h"

namespace switchyard::cli {
namespace {

struct ServeFlags {
  std::string model_repository;
  std::string host = "0.0.0.0";
  int http_port = 8000;
  int grpc_port = 8001;  // 0: off; kAnyPort: a free one
  int http_threads = 0;
  int max_request_body_mb = 64;
  int max_header_kb = 16;
  int idle_timeout_s = 60;
  int write_timeout_s = 60;
  int max_buffered_mb = 1024;
  int max_connections = 1024;
  bool max_connections_chosen = false;  // given on the command line
  std::string port_file;
  std::string backend_directory;
  std::string admin_token;
  int drain_timeout_s = 30;
  int body_pool_mb = 256;
  int poll_us = 0;
  bool allow_shared_memory = false;
  std::string state_dir;  // "": the repository's folder name + "-state", beside it
  int max_jobs = 10000;
  int job_concurrency = 4;
  int job_ttl_s = 86400;
  int job_storage_mb = 1024;
  int job_keepalive_s = 15;
  int shutdown_grace_s = 0;
  int agent_port = -1;  // -1: no agent-check port
  http::TlsFiles tls;   // none: plaintext
  DeviceFlags devices;
};

constexpr int kAnyPort = -1;  // --grpc-port any

// The job store's folder when --state-dir is not given: "<repository>-state" beside the
// repository ("examples/models" -> "examples/models-state").
std::string DefaultStateDir(const std::string& repository) {
  std::filesystem::path path = std::filesystem::path(repository).lexically_normal();
  if (!path.has_filename()) path = path.parent_path();  // a trailing '/'
  return path.string() + "-state";
}

// Blocks SIGINT and SIGTERM in this thread and every thread started after it, so that only
// WaitForSignal receives them.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

int Serve(const ServeFlags& flags) {
  sigset_t stop_signals = BlockStopSignals();
  // TLS first: a wrong file stops the start before any model is loaded.
  std::optional<http::TlsCredentials> tls;
  if (Status checked = http::CheckTlsFlags(flags.tls); !checked.ok()) {
    spdlog::error("cannot start: {}", checked.message());
    return 1;
  }
  if (flags.tls.any()) {
    auto loaded = http::LoadTlsCredentials(flags.tls);
    if (!loaded.ok()) {
      spdlog::error("cannot start: {}", loaded.status().message());
      return 1;
    }
    tls = std::move(*loaded);
  } else if (!IsLoopbackHost(flags.host)) {
    spdlog::info(
        "HTTP and gRPC are plaintext on {} (no --tls-cert/--tls-key): requests and answers "
        "cross the network unencrypted unless a proxy in front terminates TLS",
        flags.host);
  }
  auto max_connections =
      http::FitConnectionsToDescriptorLimit(flags.max_connections, flags.max_connections_chosen);
  if (!max_connections.ok()) {
    spdlog::error("cannot start: {}", max_connections.status().message());
    return 1;
  }
  ServerOptions options;
  options.model_repository = flags.model_repository;
  if (flags.devices.simulate) options.simulate_gpus = flags.devices.simulate_gpus;
  options.gpus = flags.devices.gpus;
  options.vram_reserve_mb = flags.devices.vram_reserve_mb;
  options.backend_directory = flags.backend_directory;
  options.drain_timeout = std::chrono::seconds(flags.drain_timeout_s);
  options.body_pool_mb = flags.body_pool_mb;
  options.poll = std::chrono::microseconds(flags.poll_us);
  auto server = Server::Create(options);
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.status().message());
    return 1;
  }
  std::unique_ptr<http::SharedMemoryRegistry> shared_memory;
  if (flags.allow_shared_memory) {
    shared_memory = std::make_unique<http::SharedMemoryRegistry>();
    if (!IsLoopbackHost(flags.host) && flags.admin_token.empty()) {
      spdlog::warn(
          "--allow-shared-memory on {} without an admin token: any client that reaches the port "
          "can make the server map, read and write this machine's shared-memory objects; bind "
          "to 127.0.0.1 or set --admin-token",
          flags.host);
    }
  }
  http::Router router(server->get(),
                      {.admin_token = flags.admin_token,
                       .unload_drain_timeout = std::chrono::seconds(flags.drain_timeout_s)},
                      shared_memory.get());
  const std::string state_dir =
      flags.state_dir.empty() ? DefaultStateDir(flags.model_repository) : flags.state_dir;
  auto jobs = http::JobService::Create(
      {.state_dir = state_dir,
       .max_unfinished = static_cast<std::size_t>(flags.max_jobs),
       .per_model = flags.job_concurrency,
       .result_ttl = std::chrono::seconds(flags.job_ttl_s),
       .event_keepalive = std::chrono::seconds(flags.job_keepalive_s),
       .max_stored_bytes = static_cast<uint64_t>(flags.job_storage_mb) << 20,
       .may_run_again =
           [&server](const std::string& model) {
             auto handle = (*server)->Resolve(model, -1);
             return !handle.ok() || (*handle)->config()->idempotent;
           },
       .admin_token = flags.admin_token},
      [&router](http::HttpRequest request, http::ReplyFn reply) {
        router.Handle(std::move(request), std::move(reply));
      });
  if (!jobs.ok()) {
    spdlog::error("cannot start: {}", jobs.status().message());
    return 1;
  }
  router.SetJobs(jobs->get());
  spdlog::info("jobs are kept in {}", state_dir);
  http::HttpOptions http_options;
  http_options.host = flags.host;
  http_options.port = static_cast<uint16_t>(flags.http_port);
  http_options.threads = flags.http_threads;
  http_options.max_body_bytes = static_cast<std::size_t>(flags.max_request_body_mb) << 20;
  http_options.max_header_bytes = static_cast<std::size_t>(flags.max_header_kb) << 10;
  http_options.idle_timeout_s = flags.idle_timeout_s;
  http_options.write_timeout_s = flags.write_timeout_s;
  http_options.max_buffered_bytes = static_cast<std::size_t>(flags.max_buffered_mb) << 20;
  http_options.max_connections = *max_connections;
  http_options.poll = std::chrono::microseconds(flags.poll_us);
  http_options.tls = tls;
  http::HttpServer http_server(http_options, &router);
  if (Status started = http_server.Start(); !started.ok()) {
    spdlog::error("cannot start: {}", started.message());
    return 1;
  }
  spdlog::info("HTTP{} listening on {}:{} (dashboard at /, metrics at /metrics)",
               tls ? "S (TLS only)" : "", flags.host, http_server.port());
  std::atomic<bool> leaving{false};  // from the stop signal on: the agent says "drain"
  agent::AgentCheck agent_check(server->get(), &leaving);
  if (flags.agent_port >= 0) {
    if (Status started = agent_check.Start(flags.host, static_cast<uint16_t>(flags.agent_port));
        !started.ok()) {
      spdlog::error("cannot start: {}", started.message());
      return 1;
    }
    spdlog::info("HAProxy agent check on {}:{} (plaintext, with or without TLS)", flags.host,
                 agent_check.port());
  }
#ifdef SWITCHYARD_WITH_GRPC
  grpc_frontend::GrpcServer grpc_server(
      server->get(),
      {.host = flags.host,
       .port = static_cast<uint16_t>(flags.grpc_port == kAnyPort ? 0 : flags.grpc_port),
       .max_receive_bytes = static_cast<std::size_t>(flags.max_request_body_mb) << 20,
       .service = {.admin_token = flags.admin_token,
                   .unload_drain_timeout = std::chrono::seconds(flags.drain_timeout_s)},
       .tls = tls},
      shared_memory.get());
  if (flags.grpc_port != 0) {
    if (Status started = grpc_server.Start(); !started.ok()) {
      spdlog::error("cannot start: {}", started.message());
      return 1;
    }
    spdlog::info("gRPC{} listening on {}:{}", tls ? " (TLS only)" : "", flags.host,
                 grpc_server.port());
  }
#else
  if (flags.grpc_port != 0) spdlog::info("this build has no gRPC front end: --grpc-port ignored");
#endif
  if (!flags.port_file.empty()) {
    std::ofstream port_file(flags.port_file);
    port_file << "http=" << http_server.port() << "\n";
#ifdef SWITCHYARD_WITH_GRPC
    if (flags.grpc_port != 0) port_file << "grpc=" << grpc_server.port() << "\n";
#endif
    if (flags.agent_port >= 0) port_file << "agent=" << agent_check.port() << "\n";
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  leaving.store(true);
  if (signal == SIGTERM && flags.shutdown_grace_s > 0) {
    // Not ready, still serving: balancers that check readiness stop sending here before the
    // server stops accepting (the preStop sleep, built in). A second signal ends the wait.
    (*server)->StopBeingReady();
    spdlog::info(
        "received SIGTERM; not ready, serving {} s more before draining "
        "(--shutdown-grace-s)",
        flags.shutdown_grace_s);
    timespec grace{.tv_sec = flags.shutdown_grace_s, .tv_nsec = 0};
    if (sigtimedwait(&stop_signals, nullptr, &grace) > 0) {
      spdlog::info("a second stop signal: draining now");
    }
  }
  spdlog::info("received {}; shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
  // Not ready and no new connections; queued and executing requests finish (up to the drain
  // timeout) and their replies are written; what is left is answered 503; workers end.
  http_server.StopAccepting();
#ifdef SWITCHYARD_WITH_GRPC
  // New gRPC calls are refused, open streams end once their requests are answered; calls in
  // progress have the drain and 5 s more to be answered and written.
  grpc_server.BeginShutdown(std::chrono::seconds(flags.drain_timeout_s + 5));
#endif
  (*jobs)->StopStarting();  // queued jobs stay queued for the next start
  (*server)->Drain(std::chrono::seconds(flags.drain_timeout_s));
  (*server)->Shutdown();  // the running jobs were answered: their results are recorded
#ifdef SWITCHYARD_WITH_GRPC
  grpc_server.Wait();
#endif
  http_server.Stop(std::chrono::seconds(5));
  // The job service goes after the HTTP server (declared before it): no connection can reach
  // it once it is gone.
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve = app.add_subcommand("serve", "Serve a model repository over HTTP");
  serve
      ->add_option("--model-repository", flags->model_repository,
                   "Folder with one sub-folder per model")
      ->required();
  serve->add_option("--host", flags->host, "Address to bind")->capture_default_str();
  serve->add_option("--http-port", flags->http_port, "HTTP port; 0 picks a free one")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  serve
      ->add_option_function<std::string>(
          "--grpc-port",
          [flags](const std::string& value) {
            flags->grpc_port = value == "any" ? kAnyPort : std::stoi(value);
          },
          "gRPC port (KServe v2 GRPCInferenceService and grpc.health.v1); 0: no gRPC; 'any' "
          "picks a free one (default 8001)")
      ->check(CLI::IsMember({"any"}) | CLI::Range(0, 65535));
  serve->add_option("--http-threads", flags->http_threads, "HTTP I/O threads; 0 = cores")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  serve
      ->add_option("--max-request-body-mb", flags->max_request_body_mb,
                   "Largest request body, MiB (413 beyond)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  serve
      ->add_option("--max-header-kb", flags->max_header_kb,
                   "Largest request header, KiB (431 beyond)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  serve
      ->add_option("--idle-timeout-s", flags->idle_timeout_s,
                   "Close a connection idle for this long, s")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  serve
      ->add_option("--write-timeout-s", flags->write_timeout_s,
                   "Close a connection whose reply is not written within this long, s")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  serve
      ->add_option("--max-buffered-mb", flags->max_buffered_mb,
                   "Request bodies being received and replies being written, all connections "
                   "together, MiB; a body beyond it is answered 503")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  serve
      ->add_option_function<int>(
          "--max-connections",
          [flags](int value) {
            flags->max_connections = value;
            flags->max_connections_chosen = true;
          },
          "Open connections at most; more are closed at once. Must fit the file-descriptor "
          "limit with 256 to spare (default 1024, lowered to fit)")
      ->check(CLI::Range(1, 1000000));
  serve->add_option("--port-file", flags->port_file,
                    "Write 'http=PORT' (and 'grpc=PORT', 'agent=PORT' when on) to this file once "
                    "listening (for tests and scripts)");
  serve
      ->add_option("--admin-token", flags->admin_token,
                   "Token the repository API (load/unload) needs as 'Authorization: Bearer "
                   "<token>'; empty: none (bind to localhost then)")
      ->envname("SWITCHYARD_ADMIN_TOKEN");
  serve->add_flag("--allow-shared-memory", flags->allow_shared_memory,
                  "Let clients on this machine register POSIX shared memory (the system "
                  "shared-memory extension) and pass tensors through it; the server maps what "
                  "they name: enable only for clients you trust");
  serve->add_option("--state-dir", flags->state_dir,
                    "Folder of the job store (jobs and their results, kept across restarts); "
                    "default: the repository's folder name + '-state', beside it");
  serve
      ->add_option("--max-jobs", flags->max_jobs,
                   "Jobs queued or running at most; a submit beyond is answered 429")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  serve
      ->add_option("--job-concurrency", flags->job_concurrency,
                   "Jobs of one model that run at once (the others wait in the job queue)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  serve
      ->add_option("--job-ttl-s", flags->job_ttl_s,
                   "A finished job and its result are removed this long after it ended, s")
      ->check(CLI::Range(1, 365 * 86400))
      ->capture_default_str();
  serve
      ->add_option("--job-keepalive-s", flags->job_keepalive_s,
                   "A job's event stream without news gets a comment line this often, so that "
                   "proxies that close idle connections keep it open, s")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  serve
      ->add_option("--job-storage-mb", flags->job_storage_mb,
                   "Request and result bodies the job store may hold, MiB; a submit beyond is "
                   "answered 507")
      ->check(CLI::Range(1, 1 << 24))
      ->capture_default_str();
  serve
      ->add_option("--agent-port", flags->agent_port,
                   "Answer HAProxy's agent check on this port (on --host): 'up ready <weight>%' "
                   "with the free share of capacity as weight, 'drain' while shutting down, "
                   "'down' when not ready; 0 picks a free one; default: none")
      ->check(CLI::Range(0, 65535));
  serve
      ->add_option("--shutdown-grace-s", flags->shutdown_grace_s,
                   "On SIGTERM, first turn not ready and keep serving this long, so that load "
                   "balancers stop sending here, then stop accepting and drain, s (SIGINT and a "
                   "second signal skip it)")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  serve
      ->add_option("--drain-timeout-s", flags->drain_timeout_s,
                   "On SIGTERM/SIGINT, unload and reload: how long queued and executing "
                   "requests may take to finish, s")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  serve
      ->add_option("--body-pool-mb", flags->body_pool_mb,
                   "Shared memory per model with worker processes that large request bodies "
                   "are received into, so its workers read the inputs there (16 MiB regions, "
                   "made as needed), MiB; 0: none (inputs are copied to the workers)")
      ->check(CLI::Range(0, 65536))
      ->capture_default_str();
  serve
      ->add_option("--poll-us", flags->poll_us,
                   "Low-latency mode: the HTTP threads, the threads reading workers' results "
                   "and the workers poll this long after their last event for the next before "
                   "they sleep, us; 0: they sleep at once. Costs up to a core per polling thread")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  serve->add_option("--backend-directory", flags->backend_directory,
                    "Where backend plugins are (default: ../backends from the binary)");
  serve->add_option("--tls-cert", flags->tls.cert_file,
                    "PEM file: the server's certificate (then its chain). With --tls-key, the "
                    "HTTP and gRPC ports speak TLS only (1.2 and 1.3); default: plaintext");
  serve->add_option("--tls-key", flags->tls.key_file,
                    "PEM file: the private key of --tls-cert (unencrypted)");
  serve->add_option("--tls-client-ca", flags->tls.client_ca_file,
                    "PEM file: CA certificate(s); with it, every HTTP and gRPC client must present "
                    "a certificate signed by one of them (mutual TLS). Needs --tls-cert");
  AddDeviceFlags(serve, &flags->devices);
  serve->callback([flags] {
    int code = Serve(*flags);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace switchyard::cli
