// B7's reference (bench/grpc_ceiling/run): the least a gRPC++ server does to answer the `simple`
// model. A callback-API GRPCInferenceService on one port that answers every ModelInfer with the
// same ModelInferResponse (OUTPUT0 and OUTPUT1, INT32 [1, 16], raw contents of zeros: the shape
// and size switchyard answers a batch-1 request with), every ModelStreamInfer request with the
// same response in the stream, ModelMetadata and ModelConfig with `simple`'s, whatever the
// request; everything else UNIMPLEMENTED. No model, no queue, no validation.
//
//   grpc_ceiling_server [--host 127.0.0.1] [--port 0] [--port-file FILE]
//
// --port 0 picks a free port; --port-file then gets the line `grpc=PORT` once serving. Runs
// until SIGINT or SIGTERM.

#include <grpcpp/grpcpp.h>
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "grpc_service.grpc.pb.h"

namespace {

constexpr int kElements = 16;

class CeilingService final : public inference::GRPCInferenceService::CallbackService {
 public:
  CeilingService() {
    for (const char* name : {"OUTPUT0", "OUTPUT1"}) {
      auto* output = response_.add_outputs();
      output->set_name(name);
      output->set_datatype("INT32");
      output->add_shape(1);
      output->add_shape(kElements);
      response_.add_raw_output_contents(std::string(kElements * sizeof(int32_t), '\0'));
    }
    response_.set_model_name("simple");
    response_.set_model_version("1");
    *stream_response_.mutable_infer_response() = response_;

    metadata_.set_name("simple");
    metadata_.add_versions("1");
    metadata_.set_platform("switchyard_sim");
    for (const char* name : {"INPUT0", "INPUT1", "OUTPUT0", "OUTPUT1"}) {
      auto* tensor = name[0] == 'I' ? metadata_.add_inputs() : metadata_.add_outputs();
      tensor->set_name(name);
      tensor->set_datatype("INT32");
      tensor->add_shape(-1);
      tensor->add_shape(kElements);
    }
    config_.mutable_config()->set_name("simple");
    config_.mutable_config()->set_max_batch_size(8);
  }

  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest*,
                                       inference::ModelInferResponse* response) override {
    *response = response_;
    return Done(context);
  }

  grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
  ModelStreamInfer(grpc::CallbackServerContext*) override {
    return new Stream(&stream_response_);
  }

  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest*,
                                          inference::ModelMetadataResponse* response) override {
    *response = metadata_;
    return Done(context);
  }

  grpc::ServerUnaryReactor* ModelConfig(grpc::CallbackServerContext* context,
                                        const inference::ModelConfigRequest*,
                                        inference::ModelConfigResponse* response) override {
    *response = config_;
    return Done(context);
  }

 private:
  static grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  // Reads a request, writes the fixed response, reads the next; ends when the client does.
  class Stream final : public grpc::ServerBidiReactor<inference::ModelInferRequest,
                                                      inference::ModelStreamInferResponse> {
   public:
    explicit Stream(const inference::ModelStreamInferResponse* response) : response_(response) {
      StartRead(&request_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);
        return;
      }
      StartWrite(response_);
    }
    void OnWriteDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
        return;
      }
      StartRead(&request_);
    }
    void OnDone() override { delete this; }

   private:
    const inference::ModelStreamInferResponse* const response_;
    inference::ModelInferRequest request_;
  };

  inference::ModelInferResponse response_;
  inference::ModelStreamInferResponse stream_response_;
  inference::ModelMetadataResponse metadata_;
  inference::ModelConfigResponse config_;
};

int Usage() {
  std::fprintf(stderr, "usage: grpc_ceiling_server [--host H] [--port P] [--port-file FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::string port = "0";
  std::string port_file;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) return Usage();
    if (std::strcmp(argv[i], "--host") == 0) {
      host = argv[++i];
    } else if (std::strcmp(argv[i], "--port") == 0) {
      port = argv[++i];
    } else if (std::strcmp(argv[i], "--port-file") == 0) {
      port_file = argv[++i];
    } else {
      return Usage();
    }
  }
  // SIGINT and SIGTERM are blocked in every thread (gRPC's inherit the mask) and taken by
  // sigwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  CeilingService service;
  int bound_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(host + ":" + port, grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::fprintf(stderr, "grpc_ceiling_server: cannot listen on %s:%s\n", host.c_str(),
                 port.c_str());
    return 1;
  }
  if (!port_file.empty()) {
    std::ofstream(port_file) << "grpc=" << bound_port << "\n";
  }
  std::fprintf(stderr, "grpc_ceiling_server: serving on %s:%d\n", host.c_str(), bound_port);
  int signal = 0;
  sigwait(&stop_signals, &signal);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}
