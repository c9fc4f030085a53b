#include "bench/arrival_schedule.h"

#include <charconv>
#include <cmath>

#include "fmt/format.h"

namespace switchyard::bench {
namespace {

constexpr double kMaxOffsetS = 86400;

Duration FromSeconds(double seconds) {
  return Duration(static_cast<Duration::rep>(std::llround(seconds * 1e9)));
}

// splitmix64: a full-period 64-bit generator, used here both to mix seeds and as the generator.
uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string_view Trim(std::string_view line) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
  while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
  return line;
}

}  // namespace

PoissonSchedule::PoissonSchedule(double rate_per_s, uint64_t seed)
    : mean_gap_s_(1.0 / rate_per_s), state_(seed) {}

uint64_t PoissonSchedule::NextRandom() { return SplitMix(state_); }

std::optional<Duration> PoissonSchedule::Next() {
  // u in (0, 1]: 53 random bits, never 0, so log(u) is finite.
  double u = static_cast<double>((NextRandom() >> 11) + 1) * 0x1.0p-53;
  offset_s_ += -std::log(u) * mean_gap_s_;
  return FromSeconds(offset_s_);
}

std::optional<Duration> ConstantSchedule::Next() {
  return FromSeconds(first_s_ + step_s_ * static_cast<double>(index_++));
}

std::optional<Duration> ListSchedule::Next() {
  if (index_ >= offsets_.size()) return std::nullopt;
  return offsets_[index_++];
}

std::unique_ptr<ArrivalSchedule> SplitSchedule(const ArrivalSpec& spec, int thread, int threads) {
  switch (spec.kind) {
    case ArrivalKind::kPoisson: {
      uint64_t mix = spec.seed ^ (0xd1b54a32d192ed03ULL * static_cast<uint64_t>(thread + 1));
      return std::make_unique<PoissonSchedule>(spec.rate_per_s / threads, SplitMix(mix));
    }
    case ArrivalKind::kConstant:
      return std::make_unique<ConstantSchedule>(thread / spec.rate_per_s,
                                                threads / spec.rate_per_s);
    case ArrivalKind::kList: {
      std::vector<Duration> share;
      for (std::size_t i = static_cast<std::size_t>(thread); i < spec.offsets.size();
           i += static_cast<std::size_t>(threads)) {
        share.push_back(spec.offsets[i]);
      }
      return std::make_unique<ListSchedule>(std::move(share));
    }
  }
  return nullptr;
}

StatusOr<std::vector<Duration>> ParseSchedule(std::string_view text) {
  std::vector<Duration> offsets;
  int line_number = 0;
  double previous = 0;
  while (!text.empty()) {
    ++line_number;
    std::size_t newline = text.find('\n');
    std::string_view line = Trim(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.empty() || line.front() == '#') continue;
    double seconds = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), seconds);
    if (ec != std::errc() || end != line.data() + line.size() || !std::isfinite(seconds)) {
      return InvalidArgument(
          fmt::format("schedule line {}: '{}' is not a number of seconds", line_number, line));
    }
    if (seconds < 0 || seconds > kMaxOffsetS) {
      return InvalidArgument(fmt::format("schedule line {}: offset {} is outside [0, {}] s",
                                         line_number, line, kMaxOffsetS));
    }
    if (seconds < previous) {
      return InvalidArgument(
          fmt::format("schedule line {}: offset {} goes back (the previous was {})", line_number,
                      line, previous));
    }
    previous = seconds;
    offsets.push_back(FromSeconds(seconds));
  }
  if (offsets.empty()) return InvalidArgument("schedule has no arrival offsets");
  return offsets;
}

}  // namespace switchyard::bench
