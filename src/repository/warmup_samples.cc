#include "repository/warmup_samples.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <vector>

#include "core/http_envelope.h"
#include "fmt/format.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxSamples = 64;
constexpr std::uintmax_t kMaxSampleBytes = 64ull << 20;
constexpr char kWarmupDir[] = "warmup";

}  // namespace

Status LoadWarmupSamples(const std::string& model_dir, const std::string& shown_dir,
                         ModelConfig* config) {
  if (!config->http_envelope) return Status::Ok();
  const fs::path dir = fs::path(model_dir) / kWarmupDir;
  const std::string shown = (fs::path(shown_dir) / kWarmupDir).string();
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code type_ec;
      const std::string name = it->path().filename().string();
      if (name.starts_with(".") || !it->is_regular_file(type_ec)) continue;
      files.push_back(it->path());
    }
    if (ec) return InvalidArgument(fmt::format("{}: cannot list folder: {}", shown, ec.message()));
  }
  if (files.size() > kMaxSamples) {
    return InvalidArgument(
        fmt::format("{}: {} files (at most {} warm-up samples)", shown, files.size(), kMaxSamples));
  }
  std::sort(files.begin(), files.end());
  WarmupConfig& warmup = config->warmup;
  std::uintmax_t total = 0;
  const bool whole_body = files.size() == 1 && files[0].stem() == "body";
  for (const fs::path& file : files) {
    const std::string filename = file.filename().string();
    const std::uintmax_t size = fs::file_size(file, ec);
    if (ec) return InvalidArgument(fmt::format("{}/{}: cannot read", shown, filename));
    if (size > kMaxSampleBytes - total) {  // checked before reading it
      return InvalidArgument(
          fmt::format("{}: the samples exceed {} MiB", shown, kMaxSampleBytes >> 20));
    }
    std::ifstream in(file, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      return InvalidArgument(fmt::format("{}/{}: cannot read", shown, filename));
    }
    total += data.size();
    if (total > kMaxSampleBytes) {  // the file grew while it was read
      return InvalidArgument(
          fmt::format("{}: the samples exceed {} MiB", shown, kMaxSampleBytes >> 20));
    }
    WarmupSample sample;
    sample.name = whole_body ? "" : file.stem().string();
    sample.content_type = std::string(ContentTypeOfFile(filename));
    const bool text_field = !whole_body && sample.content_type.starts_with("text/plain");
    if (text_field) {
      sample.content_type.clear();
    } else if (!whole_body) {
      sample.filename = filename;
    }
    sample.data = std::move(data);
    warmup.samples.push_back(std::move(sample));
  }
  if (warmup.samples.empty()) {
    if (warmup.requests_given && warmup.requests > 0) {
      return InvalidArgument(fmt::format(
          "{}/config.yaml: warmup.requests: {} warm-up requests, but a python model without "
          "declared inputs is warmed up with the files of {}/, and there are none",
          shown_dir, warmup.requests, shown));
    }
    warmup.requests = 0;
  } else if (!warmup.requests_given) {
    warmup.requests = 1;
  }
  return Status::Ok();
}

}  // namespace switchyard
