#pragma once
// Open-loop arrival schedules: the offsets, from the start of load, at which requests come due.
// Pure and deterministic (seeded), no clock: the open-loop process (open_loop.h) turns offsets
// into time. A schedule for the whole load is split over the client threads, each of which runs
// its own share (SplitSchedule).

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "switchyard/clock.h"
#include "switchyard/status.h"

namespace switchyard::bench {

// Offsets in non-decreasing order. Not thread-safe (one client thread uses it).
class ArrivalSchedule {
 public:
  virtual ~ArrivalSchedule() = default;
  // The next offset from the start of load, or nullopt once the schedule is exhausted.
  virtual std::optional<Duration> Next() = 0;
};

// A Poisson process: independent exponential gaps with mean 1 / rate_per_s, from a generator
// seeded with `seed` (the same seed gives the same offsets on every platform). Never exhausted.
// REQUIRES: rate_per_s > 0
class PoissonSchedule final : public ArrivalSchedule {
 public:
  PoissonSchedule(double rate_per_s, uint64_t seed);
  std::optional<Duration> Next() override;

 private:
  uint64_t NextRandom();

  const double mean_gap_s_;
  uint64_t state_;
  double offset_s_ = 0;
};

// Fixed spacing: first, first + step, first + 2·step, ... Never exhausted.
// REQUIRES: step > 0
class ConstantSchedule final : public ArrivalSchedule {
 public:
  ConstantSchedule(double first_s, double step_s) : first_s_(first_s), step_s_(step_s) {}
  std::optional<Duration> Next() override;

 private:
  const double first_s_;
  const double step_s_;
  int64_t index_ = 0;
};

// A fixed list, replayed once.
// REQUIRES: offsets non-decreasing
class ListSchedule final : public ArrivalSchedule {
 public:
  explicit ListSchedule(std::vector<Duration> offsets) : offsets_(std::move(offsets)) {}
  std::optional<Duration> Next() override;

 private:
  std::vector<Duration> offsets_;
  std::size_t index_ = 0;
};

// How the load's arrivals are spaced.
enum class ArrivalKind { kPoisson, kConstant, kList };

struct ArrivalSpec {
  ArrivalKind kind = ArrivalKind::kPoisson;
  double rate_per_s = 0;          // kPoisson, kConstant: requests per second over all threads
  uint64_t seed = 1;              // kPoisson
  std::vector<Duration> offsets;  // kList: from the start of load, non-decreasing
};

// The share of client thread `thread` of `threads`: Poisson at rate / threads with a seed derived
// from (seed, thread) (independent Poisson processes add up to one at the full rate); constant
// spacing interleaved (thread t sends arrivals t, t + threads, ...); a list dealt the same way.
// REQUIRES: 0 <= thread < threads; rate_per_s > 0 for kPoisson and kConstant
std::unique_ptr<ArrivalSchedule> SplitSchedule(const ArrivalSpec& spec, int thread, int threads);

// Parses a schedule file: one arrival offset in seconds a line (a non-negative decimal number such
// as `0.0125` or `3`), in non-decreasing order. Blank lines and lines starting with '#' are
// skipped; spaces and tabs around a number are allowed. InvalidArgument, naming the line, for
// anything else (not a number, negative, not finite, above one day, going backwards) and for a
// file without any offset.
StatusOr<std::vector<Duration>> ParseSchedule(std::string_view text);

}  // namespace switchyard::bench
