#include "frontend/grpc/stream_infer.h"

#include <utility>
#include <vector>

#include "frontend/grpc/infer_codec.h"

namespace switchyard::grpc_frontend {

void StreamSet::StopAll() {
  // Performed without mu_: a stream's OnDone, which Remove's it, may run inline from Finish.
  std::vector<std::pair<StreamInferReactor*, StreamInferReactor::Action>> actions;
  {
    MutexLock lock(&mu_);
    stopped_ = true;
    for (StreamInferReactor* stream : streams_) actions.emplace_back(stream, stream->Stop());
  }
  for (auto [stream, action] : actions) stream->Perform(action);
}

bool StreamSet::Add(StreamInferReactor* stream) {
  MutexLock lock(&mu_);
  if (stopped_) return false;
  streams_.insert(stream);
  return true;
}

void StreamSet::Remove(StreamInferReactor* stream) {
  MutexLock lock(&mu_);
  streams_.erase(stream);
}

StreamInferReactor::StreamInferReactor(Server* server, StreamSet* streams,
                                       const http::SharedMemoryRegistry* shared_memory)
    : server_(server), streams_(streams), shared_memory_(shared_memory) {
  if (!streams_->Add(this)) {
    Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
    MutexLock lock(&mu_);
    finished_ = true;
    return;
  }
  reading_ = std::make_unique<inference::ModelInferRequest>();
  StartRead(reading_.get());
}

void StreamInferReactor::OnReadDone(bool ok) {
  Action action = Action::kNone;
  uint64_t sequence = 0;
  auto cancel = std::make_shared<CancelToken>();
  bool read_more = false;
  {
    MutexLock lock(&mu_);
    if (!ok) {
      reads_done_ = true;
      action = NextAction();
    } else if (finished_ || broken_) {
      return;  // nobody to answer: the message is dropped
    } else {
      sequence = next_sequence_++;
      pending_.push_back(Pending{.sequence = sequence, .cancel = cancel});
      ++in_core_;
      read_more = !reads_done_;
    }
  }
  if (!ok) return Perform(action);
  std::unique_ptr<inference::ModelInferRequest> message = std::move(reading_);
  if (read_more) {
    reading_ = std::make_unique<inference::ModelInferRequest>();
    StartRead(reading_.get());
  }
  Submit(std::move(message), sequence, std::move(cancel));
}

namespace {

// The stream response for `result` of request `id` to `model`: its outputs, or its error (the
// stream goes on). Marked as Triton marks a decoupled model's responses: the parameter
// triton_final_response says whether the request has more to come.
inference::ModelStreamInferResponse StreamResponse(const StatusOr<InferResponse>& result,
                                                   const std::string& model, const std::string& id,
                                                   bool final,
                                                   const OutputRegions* output_regions = nullptr) {
  inference::ModelStreamInferResponse response;
  Status status = result.status();
  if (status.ok()) {
    status =
        EncodeModelInferResponse(*result, model, response.mutable_infer_response(), output_regions);
  }
  if (!status.ok()) {
    response.Clear();
    response.set_error_message(status.message());
    response.mutable_infer_response()->set_model_name(model);
    response.mutable_infer_response()->set_id(id);
  }
  (*response.mutable_infer_response()->mutable_parameters())["triton_final_response"]
      .set_bool_param(final);
  return response;
}

}  // namespace

void StreamInferReactor::Submit(std::unique_ptr<inference::ModelInferRequest> message,
                                uint64_t sequence, std::shared_ptr<CancelToken> cancel) {
  auto fail = [this, sequence, &message](const Status& status) {
    Answer(sequence, StreamResponse(status, message->model_name(), message->id(), true), true);
  };
  auto decoded = DecodeModelInferRequest(*message, shared_memory_);
  if (!decoded.ok()) return fail(decoded.status());
  std::unique_ptr<InferRequest> request = std::move(decoded->request);
  auto model = server_->Resolve(request->model_name, request->model_version);
  if (!model.ok()) return fail(model.status());
  request->cancel = std::move(cancel);
  // Partial responses come before the final one, while the request is in the core (in_core_
  // keeps the reactor alive).
  request->partial =
      std::make_shared<PartialResponses>([this, sequence, name = message->model_name(),
                                          id = message->id()](std::vector<Tensor> outputs) {
        InferResponse partial;
        partial.model_name = name;
        partial.id = id;
        partial.outputs = std::move(outputs);
        Answer(sequence, StreamResponse(std::move(partial), name, id, false), false);
      });
  // Partial responses of a request whose outputs go to shared memory carry their bytes: only the
  // final answer is written into the regions.
  server_->Infer(
      **model, std::move(request),
      [this, sequence, name = message->model_name(), id = message->id(),
       input_regions = std::move(decoded->input_regions),
       output_regions = std::move(decoded->output_regions)](StatusOr<InferResponse> result) {
        // Computed from zeros where an input's region was truncated under it: refused.
        if (Status intact = http::CheckInputRegions(input_regions); result.ok() && !intact.ok()) {
          result = intact;
        }
        Answer(sequence, StreamResponse(result, name, id, true, &output_regions), true);
      });
}

void StreamInferReactor::Answer(uint64_t sequence, inference::ModelStreamInferResponse response,
                                bool final) {
  Action action = Action::kNone;
  bool release = false;
  {
    MutexLock lock(&mu_);
    for (Pending& pending : pending_) {
      if (pending.sequence == sequence) {
        pending.answers.push_back(std::move(response));
        pending.answered = pending.answered || final;
        break;
      }
    }
    if (final) --in_core_;
    action = NextAction();
    release = done_ && in_core_ == 0;
  }
  if (release) {
    delete this;
    return;
  }
  Perform(action);
}

void StreamInferReactor::OnWriteDone(bool ok) {
  Action action = Action::kNone;
  std::vector<std::shared_ptr<CancelToken>> cancelled;
  {
    MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) cancelled = Break();
    action = NextAction();
  }
  for (auto& token : cancelled) token->Cancel();
  Perform(action);
}

void StreamInferReactor::OnCancel() {
  Action action = Action::kNone;
  std::vector<std::shared_ptr<CancelToken>> cancelled;
  {
    MutexLock lock(&mu_);
    cancelled = Break();
    action = NextAction();
  }
  for (auto& token : cancelled) token->Cancel();
  Perform(action);
}

StreamInferReactor::Action StreamInferReactor::Stop() {
  MutexLock lock(&mu_);
  reads_done_ = true;
  return NextAction();
}

void StreamInferReactor::OnDone() {
  streams_->Remove(this);
  bool release = false;
  {
    MutexLock lock(&mu_);
    done_ = true;
    release = in_core_ == 0;
  }
  if (release) delete this;
}

std::vector<std::shared_ptr<CancelToken>> StreamInferReactor::Break() {
  std::vector<std::shared_ptr<CancelToken>> tokens;
  if (broken_) return tokens;
  broken_ = true;
  end_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "the stream was cancelled");
  for (Pending& pending : pending_) {
    if (!pending.answered) tokens.push_back(pending.cancel);
  }
  return tokens;
}

StreamInferReactor::Action StreamInferReactor::NextAction() {
  if (finished_ || writing_) return Action::kNone;
  if (!broken_ && !pending_.empty() && !pending_.front().answers.empty()) {
    Pending& oldest = pending_.front();
    written_ = std::move(oldest.answers.front());
    oldest.answers.pop_front();
    if (oldest.answered && oldest.answers.empty()) pending_.pop_front();
    writing_ = true;
    return Action::kWrite;
  }
  if (broken_ || (reads_done_ && pending_.empty())) {
    finished_ = true;
    return Action::kFinish;
  }
  return Action::kNone;
}

void StreamInferReactor::Perform(Action action) {
  switch (action) {
    case Action::kNone:
      return;
    case Action::kWrite:
      StartWrite(&written_);
      return;
    case Action::kFinish: {
      grpc::Status status;
      {
        MutexLock lock(&mu_);
        status = end_status_;
      }
      Finish(std::move(status));
      return;
    }
  }
}

}  // namespace switchyard::grpc_frontend
