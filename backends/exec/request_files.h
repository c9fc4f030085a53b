#pragma once
// The per_request mode's folder: how one request's inputs reach the program and its outputs come
// back (docs/exec-backend.md describes it for program authors). The plugin makes a private
// folder (mode 0700), names it in $SWITCHYARD_EXEC_DIR, and removes it afterwards whatever
// happened:
//
//   request.json    written by the plugin:
//                   {"protocol": 1, "model": "m", "model_version": 1, "max_batch_size": 8,
//                    "inputs":  [{"name": "INPUT0", "datatype": "INT32", "shape": [1, 16],
//                                 "file": "input0.bin"}, ...],
//                    "outputs": [{"name": "OUTPUT0", "datatype": "INT32",
//                                 "file": "output0.bin"}, ...],     (the requested outputs)
//                    "parameters": {"key": "value", ...}}           (the client's, as text)
//   input<i>.bin    config input i's bytes (KServe layout: raw little-endian, row-major; BYTES
//                   elements each as a u32 length + bytes)
//   output<j>.bin   written by the program: config output j's bytes, same layout
//   response.json   written by the program:
//                   {"outputs": [{"name": "OUTPUT0", "shape": [1, 16]}, ...]}
//                   ("datatype" may be given too and must then match the config), or
//                   {"error": "message", "code": "INVALID_ARGUMENT"}  (code optional: INTERNAL)

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exec/frame_protocol.h"
#include "exec/model_spec.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {

inline constexpr std::string_view kRequestJson = "request.json";
inline constexpr std::string_view kResponseJson = "response.json";

std::string InputFileName(size_t input_index);    // "input<i>.bin"
std::string OutputFileName(size_t output_index);  // "output<j>.bin"

// The request.json text for `request` (its inputs in config order). REQUIRES:
// wanted.size() == model.outputs.size().
std::string RequestJson(const ModelSpec& model, const RequestView& request,
                        const std::vector<bool>& wanted);

// What response.json says.
struct ResponseOutput {
  std::string name;
  std::optional<std::string> datatype;
  std::vector<int64_t> shape;
};
struct ParsedResponse {
  bool failed = false;
  sdk::Status error;  // when failed: the program's message and code
  std::vector<ResponseOutput> outputs;
};

// Parses response.json strictly (unknown keys, wrong types and malformed JSON are errors).
sdk::StatusOr<ParsedResponse> ParseResponseJson(std::string_view json);

// Writes request.json and the input files into `dir`.
sdk::Status WriteRequestFiles(const std::string& dir, const ModelSpec& model,
                              const RequestView& request, const std::vector<bool>& wanted);

// The outputs the program left in `dir`: each listed output's file read into `data` and viewed by
// `outputs` (name, datatype, shape, data; checked by MatchOutputs afterwards).
struct FileOutputs {
  ParsedResponse response;
  std::vector<std::vector<uint8_t>> data;
  std::vector<OutputTensor> outputs;
};
sdk::StatusOr<std::unique_ptr<FileOutputs>> ReadResponseFiles(const std::string& dir,
                                                              const ModelSpec& model);

// A private temporary folder (mkdtemp under $TMPDIR or /tmp, mode 0700), removed with all its
// contents on destruction.
class TempDir {
 public:
  static sdk::StatusOr<std::unique_ptr<TempDir>> Create();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace switchyard::exec
