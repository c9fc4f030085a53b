// libFuzzer target for what an exec model's program sends back to the exec backend: the frames
// of the persistent protocol (frame header, READY, RESULT, and each returned output checked
// against a config, PROGRESS, PARTIAL) and a per_request program's response.json. A program is
// the user's code: whatever it writes must become an error for its request, never a crash.
//
// Input layout: byte 0 picks the decoder (0: frame header + READY, 1: RESULT + output checks,
// 2: response.json, 3: a frame header where PROGRESS or PARTIAL may come + PROGRESS + PARTIAL
// and its output checks); the rest is what the program wrote.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "exec/frame_protocol.h"
#include "exec/model_spec.h"
#include "exec/output_check.h"
#include "exec/request_files.h"

namespace {

using namespace switchyard::exec;  // NOLINT(google-build-using-namespace): a test program

const ModelSpec& Model() {
  static const ModelSpec model = [] {
    ModelSpec spec;
    spec.name = "fuzzed";
    spec.max_batch_size = 4;
    spec.outputs = {{"OUTPUT0", SY_TYPE_FP32, {-1, 3}},
                    {"text", SY_TYPE_BYTES, {-1}},
                    {"flag", SY_TYPE_BOOL, {1}}};
    return spec;
  }();
  return model;
}

void CheckResult(std::span<const uint8_t> body) {
  auto result = DecodeResult(body);
  if (!result.ok()) return;
  const std::vector<bool> wanted(Model().outputs.size(), true);
  for (const RequestResult& request : result->requests) {
    if (!request.ok) continue;
    for (int64_t batch = 0; batch <= 4; ++batch) {
      (void)MatchOutputs(Model(), wanted, batch, request.outputs);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> rest(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      if (rest.size() >= kFrameHeaderSize) {
        (void)CheckFrameHeader(rest.first(kFrameHeaderSize), FrameKind::kReady, 1 << 20);
      }
      (void)DecodeReady(rest);
      (void)PreviewBytes(rest);
      break;
    }
    case 1:
      CheckResult(rest);
      break;
    case 2: {
      std::string_view json(reinterpret_cast<const char*>(rest.data()), rest.size());
      (void)ParseResponseJson(json);
      break;
    }
    case 3:
      if (rest.size() >= kFrameHeaderSize) {
        (void)CheckFrameHeader(rest.first(kFrameHeaderSize), FrameKind::kResult, 1 << 20, true);
      }
      (void)DecodeProgress(rest);
      if (auto partial = DecodePartial(rest); partial.ok()) {
        const std::vector<bool> wanted(Model().outputs.size(), true);
        (void)MatchOutputs(Model(), wanted, 1, partial->outputs, true);
      }
      break;
  }
  return 0;
}
