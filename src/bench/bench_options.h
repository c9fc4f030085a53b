#pragma once
// Options of `switchyard bench` and the parsers for their string forms. Every field documents its
// default and unit; the CLI (bench_command.cc) fills them.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/status.h"
#include "switchyard/tensor.h"

namespace switchyard::bench {

// How input tensors travel: JSON `data` arrays, or the binary tensor data extension.
enum class BodyFormat { kJson, kBinary };

struct BenchOptions {
  std::string url = "http://127.0.0.1:8000";  // the server; only http:// is supported
  std::string model;                          // required
  std::vector<int> concurrency = {1};         // closed-loop clients per level, in order
  int threads = 0;                            // client threads; 0: number of cores
  BodyFormat format = BodyFormat::kJson;
  int64_t batch_size = 1;  // replaces the -1 batch dimension of every input
  // Concrete dims (without the batch dimension) for inputs with other variable (-1) dims.
  std::map<std::string, Shape> shapes;
  uint64_t seed = 1;         // input data of client i comes from seed + i
  double warmup_s = 2;       // per level, not measured
  int64_t window_ms = 5000;  // one measurement window
  double stability = 0.10;   // two consecutive windows agree when their req/s differ by
                             // at most this fraction of the larger one
  int max_windows = 6;       // per level; not stable after these: reported unstable
  std::string json_out;      // empty: no JSON file
};

// "N" (one level), "A,B,C" (a list, in order) or "A:B" (A, 2A, 4A, ... while below B, then B).
// Every value must be in [1, 65536]; InvalidArgument otherwise.
StatusOr<std::vector<int>> ParseConcurrency(std::string_view text);

struct ShapeOverride {
  std::string input;
  Shape dims;
};

// "NAME:d1,d2,..." with dims >= 0; NAME may itself contain ':' (the last one separates).
StatusOr<ShapeOverride> ParseShapeOverride(std::string_view text);

// Checks ranges and combinations (FP16/BF16 need binary is checked later, against metadata).
Status ValidateOptions(const BenchOptions& options);

}  // namespace switchyard::bench
