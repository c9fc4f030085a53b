#pragma once
// ModelStreamInfer: one bidirectional stream of infer requests. Each request read is decoded and
// submitted to the core at once (several may be in flight); the responses are written in request
// order, one write at a time. A request that fails is answered in the stream with
// `error_message` (and its `infer_response.id`), and the stream goes on, as Triton does. The
// stream ends with OK once the client has closed its side and every request is answered; a
// client that cancels (or a failed write) cancels the requests still in flight.
//
// Lifetime: the reactor deletes itself once gRPC is done with it (OnDone) and every submitted
// request has been answered by the core (their callbacks point at it).
// Thread-safety: the reactions run on gRPC's threads, the answers on the core's; the state they
// share is under mu_, and no gRPC operation is started while mu_ is held.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <set>

#include "core/mutex.h"
#include "frontend/http/shared_memory_registry.h"
#include "grpc_service.pb.h"
#include "switchyard/server.h"

namespace switchyard::grpc_frontend {

class StreamInferReactor;

// The open streams, so that a graceful shutdown can end them (StopAll). Thread-safe.
class StreamSet {
 public:
  // Ends every open stream once the requests it has read are answered (it reads no more), and
  // every stream opened from now on at once.
  void StopAll();

 private:
  friend class StreamInferReactor;
  // Registers `stream`; false (not registered) once StopAll was called.
  bool Add(StreamInferReactor* stream);
  void Remove(StreamInferReactor* stream);

  Mutex mu_;
  std::set<StreamInferReactor*> streams_ GUARDED_BY(mu_);
  bool stopped_ GUARDED_BY(mu_) = false;
};

class StreamInferReactor final
    : public grpc::ServerBidiReactor<inference::ModelInferRequest,
                                     inference::ModelStreamInferResponse> {
 public:
  // Starts reading. `server`, `streams` and `shared_memory` (null: the system shared-memory
  // extension is off) must outlive the reactor.
  StreamInferReactor(Server* server, StreamSet* streams,
                     const http::SharedMemoryRegistry* shared_memory);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  friend class StreamSet;
  struct Pending {
    uint64_t sequence = 0;
    std::shared_ptr<CancelToken> cancel;
    // Its responses not written yet, in order: partial ones, then the final one.
    std::deque<inference::ModelStreamInferResponse> answers;
    bool answered = false;  // the final response is in `answers` or written
  };
  enum class Action { kNone, kWrite, kFinish };

  // Reads no more requests; the stream ends once those read are answered. Returns what the
  // caller must Perform (until it does, no other thread can end the stream: it stays alive).
  Action Stop();

  ~StreamInferReactor() override = default;

  // Decodes and submits the request read as `sequence`; Answer is called with its response.
  void Submit(std::unique_ptr<inference::ModelInferRequest> message, uint64_t sequence,
              std::shared_ptr<CancelToken> cancel);
  // Queues a response of request `sequence`: a partial one (SyHostApi::request_send_partial),
  // or its final one, after which it has no more.
  void Answer(uint64_t sequence, inference::ModelStreamInferResponse response, bool final);
  // What to start next: the write of the oldest request's next response, or the end of the
  // stream.
  Action NextAction() REQUIRES(mu_);
  void Perform(Action action);
  // Marks the stream broken (no more writes) and takes the tokens of the requests in flight.
  std::vector<std::shared_ptr<CancelToken>> Break() REQUIRES(mu_);

  Server* const server_;
  StreamSet* const streams_;
  const http::SharedMemoryRegistry* const shared_memory_;
  // The message being read: touched only by the read chain (constructor, OnReadDone).
  std::unique_ptr<inference::ModelInferRequest> reading_;

  Mutex mu_;
  std::deque<Pending> pending_ GUARDED_BY(mu_);  // in request order
  uint64_t next_sequence_ GUARDED_BY(mu_) = 0;
  int in_core_ GUARDED_BY(mu_) = 0;  // requests submitted whose callback has not run
  bool writing_ GUARDED_BY(mu_) = false;
  bool reads_done_ GUARDED_BY(mu_) = false;  // the client closed its side, or Stop
  bool broken_ GUARDED_BY(mu_) = false;      // cancelled, or a write failed
  bool finished_ GUARDED_BY(mu_) = false;    // Finish was called
  bool done_ GUARDED_BY(mu_) = false;        // OnDone ran
  grpc::Status end_status_ GUARDED_BY(mu_);
  // The response being written (stable until OnWriteDone).
  inference::ModelStreamInferResponse written_;
};

}  // namespace switchyard::grpc_frontend
