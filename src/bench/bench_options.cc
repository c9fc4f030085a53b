#include "bench/bench_options.h"

#include <charconv>
#include <cmath>

#include "fmt/format.h"

namespace switchyard::bench {
namespace {

constexpr int kMaxConcurrency = 65536;
constexpr double kMaxRate = 1e7;

// Parses a whole string as a base-10 integer.
bool ParseInt(std::string_view text, int64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

StatusOr<int> ParseLevel(std::string_view text) {
  int64_t value = 0;
  if (!ParseInt(text, value) || value < 1 || value > kMaxConcurrency) {
    return InvalidArgument(
        fmt::format("concurrency '{}' is not an integer in [1, {}]", text, kMaxConcurrency));
  }
  return static_cast<int>(value);
}

}  // namespace

StatusOr<std::vector<int>> ParseConcurrency(std::string_view text) {
  std::vector<int> levels;
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    ASSIGN_OR_RETURN(int low, ParseLevel(text.substr(0, colon)));
    ASSIGN_OR_RETURN(int high, ParseLevel(text.substr(colon + 1)));
    if (low > high) {
      return InvalidArgument(fmt::format("concurrency range '{}' goes down", text));
    }
    for (int64_t level = low; level < high; level *= 2) levels.push_back(static_cast<int>(level));
    levels.push_back(high);
    return levels;
  }
  std::size_t start = 0;
  while (true) {
    std::size_t comma = text.find(',', start);
    ASSIGN_OR_RETURN(int level, ParseLevel(text.substr(start, comma - start)));
    levels.push_back(level);
    if (comma == std::string_view::npos) return levels;
    start = comma + 1;
  }
}

StatusOr<std::vector<double>> ParseRequestRates(std::string_view text) {
  std::vector<double> rates;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma - start);
    double rate = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), rate);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() ||
        !std::isfinite(rate) || rate <= 0 || rate > kMaxRate) {
      return InvalidArgument(fmt::format(
          "request rate '{}' is not a number of requests/s in (0, {:.0f}]", item, kMaxRate));
    }
    rates.push_back(rate);
    if (comma == std::string_view::npos) return rates;
    start = comma + 1;
  }
}

StatusOr<ShapeOverride> ParseShapeOverride(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgument(fmt::format("--shape '{}' is not NAME:d1,d2,...", text));
  }
  ShapeOverride result{std::string(text.substr(0, colon)), {}};
  std::string_view dims = text.substr(colon + 1);
  std::size_t start = 0;
  while (true) {
    std::size_t comma = dims.find(',', start);
    int64_t dim = 0;
    if (!ParseInt(dims.substr(start, comma - start), dim) || dim < 0) {
      return InvalidArgument(
          fmt::format("--shape '{}': dimensions must be non-negative integers", text));
    }
    result.dims.push_back(dim);
    if (comma == std::string_view::npos) return result;
    start = comma + 1;
  }
}

StatusOr<std::string> ParseGrpcAddress(std::string_view url) {
  std::string_view rest = url;
  if (rest.starts_with("grpc://")) rest.remove_prefix(7);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  std::size_t colon = rest.rfind(':');
  int64_t port = 0;
  if (rest.find("://") != std::string_view::npos || rest.find('/') != std::string_view::npos ||
      colon == std::string_view::npos || colon == 0 || !ParseInt(rest.substr(colon + 1), port) ||
      port < 1 || port > 65535) {
    return InvalidArgument(
        fmt::format("'{}' is not a gRPC address (grpc://HOST:PORT or HOST:PORT)", url));
  }
  return std::string(rest);
}

Status ValidateOptions(const BenchOptions& options) {
  if (options.model.empty()) return InvalidArgument("a model is required (-m NAME)");
  switch (options.mode) {
    case LoadMode::kClosedLoop:
      if (options.concurrency.empty()) return InvalidArgument("no concurrency level given");
      break;
    case LoadMode::kRate:
      if (options.request_rates.empty()) return InvalidArgument("no request rate given");
      if (options.arrival == ArrivalKind::kList) {
        return InvalidArgument("a request rate needs poisson or constant arrivals");
      }
      break;
    case LoadMode::kSchedule:
      if (options.schedule.empty()) return InvalidArgument("the schedule has no arrivals");
      break;
  }
  if (options.connections < 1 || options.connections > kMaxConcurrency) {
    return InvalidArgument(fmt::format("--connections must be in [1, {}]", kMaxConcurrency));
  }
  if (options.threads < 0) return InvalidArgument("--threads must be >= 0");
  if (options.poll < Duration::zero()) return InvalidArgument("--poll-us must be >= 0");
  if (options.batch_size < 1) return InvalidArgument("--batch-size must be >= 1");
  if (options.warmup_s < 0) return InvalidArgument("--warmup-s must be >= 0");
  if (options.window_ms < 100) return InvalidArgument("--window-ms must be >= 100");
  if (options.stability <= 0 || options.stability >= 1) {
    return InvalidArgument("--stability must be in (0, 1)");
  }
  if (options.max_windows < 1) return InvalidArgument("--max-windows must be >= 1");
  if (options.grpc_channels < 0) return InvalidArgument("--grpc-channels must be >= 0");
  if (options.protocol == Protocol::kGrpc && options.format != BodyFormat::kJson) {
    return InvalidArgument("--format is for HTTP; over gRPC, --grpc-contents raw|typed");
  }
  return Status::Ok();
}

}  // namespace switchyard::bench
