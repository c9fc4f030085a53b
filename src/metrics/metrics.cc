#include "metrics/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/check.h"
#include "core/mutex.h"

namespace switchyard::metrics {
namespace {

bool IsNameChar(char c, bool first, bool allow_colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (allow_colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names the same without ':'.
bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, allow_colon)) return false;
  }
  return true;
}

// A number as Prometheus parses it (Go's ParseFloat): shortest round-trip decimal, +Inf, -Inf,
// NaN.
std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string Escape(std::string_view text, bool escape_quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// `{a="x",b="y"}`, with `extra` (e.g. le="0.5") appended; empty when there are no labels.
std::string FormatLabels(const Labels& labels, std::string_view extra = {}) {
  if (labels.empty() && extra.empty()) return "";
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ',';
    out += fmt::format("{}=\"{}\"", name, Escape(value, true));
  }
  if (!extra.empty()) {
    if (out.size() > 1) out += ',';
    out += extra;
  }
  return out + "}";
}

// Labels in a canonical order, so the same set in another order names the same series.
Labels Canonical(const Labels& labels, bool histogram) {
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const std::string& name = sorted[i].first;
    SY_CHECK(IsValidName(name, false) && !name.starts_with("__"), "invalid label name: " + name);
    SY_CHECK(i == 0 || sorted[i - 1].first != name, "duplicate label name: " + name);
    SY_CHECK(!histogram || name != "le", "histograms reserve the label name 'le'");
  }
  return sorted;
}

enum class Type { kCounter, kGauge, kHistogram };

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// All series of one metric name. Only one of the three maps is used, per `type`.
struct Family {
  Type type;
  std::string help;
  std::vector<double> upper_bounds;  // histograms only
  std::map<Labels, std::unique_ptr<Counter>> counters;
  std::map<Labels, std::unique_ptr<Gauge>> gauges;
  std::map<Labels, std::unique_ptr<Histogram>> histograms;
};

void RenderHistogram(const std::string& name, const Labels& labels, const Histogram& histogram,
                     std::string* out) {
  const Histogram::Snapshot snapshot = histogram.Read();
  for (std::size_t i = 0; i <= snapshot.upper_bounds.size(); ++i) {
    const double bound = i < snapshot.upper_bounds.size() ? snapshot.upper_bounds[i] : INFINITY;
    *out += fmt::format("{}_bucket{} {}\n", name,
                        FormatLabels(labels, fmt::format("le=\"{}\"", FormatNumber(bound))),
                        snapshot.cumulative_counts[i]);
  }
  *out += fmt::format("{}_sum{} {}\n", name, FormatLabels(labels), FormatNumber(snapshot.sum));
  *out += fmt::format("{}_count{} {}\n", name, FormatLabels(labels), snapshot.count);
}

}  // namespace

void Gauge::Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      bucket_counts_(std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() + 1)) {
  SY_CHECK(!upper_bounds_.empty(), "histogram needs at least one bucket bound");
  SY_CHECK(std::adjacent_find(upper_bounds_.begin(), upper_bounds_.end(), std::greater_equal<>()) ==
               upper_bounds_.end(),
           "histogram bucket bounds must ascend");
}

void Histogram::Observe(double value) {
  // The first bound >= value (Prometheus `le`); NaN counts only in +Inf.
  const std::size_t bucket =
      std::isnan(value) ? upper_bounds_.size()
                        : std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) -
                              upper_bounds_.begin();
  bucket_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  // Release after the bucket: a reader that sees this count also sees the bucket increment.
  count_.fetch_add(1, std::memory_order_release);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  snapshot.count = count_.load(std::memory_order_acquire);
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  // Buckets read after the count hold at least `count` observations; clamping to it keeps the
  // snapshot consistent (cumulative, ending at count) while observations race with the read.
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
    cumulative += bucket_counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(std::min(cumulative, snapshot.count));
  }
  snapshot.cumulative_counts.push_back(snapshot.count);
  return snapshot;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  SY_CHECK(start > 0 && factor > 1 && count >= 1, "ExponentialBuckets needs start > 0, factor > 1");
  std::vector<double> bounds;
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

struct Registry::State {
  Mutex mu;
  std::map<std::string, Family, std::less<>> families GUARDED_BY(mu);

  // The family `name`, created with `type` and `help` if new. REQUIRES: a valid name; an
  // existing family has the same type.
  Family& FamilyFor(std::string_view name, std::string_view help, Type type) REQUIRES(mu) {
    auto it = families.find(name);
    if (it == families.end()) {
      SY_CHECK(IsValidName(name, true), fmt::format("invalid metric name: {}", name));
      it = families.emplace(std::string(name), Family{type, std::string(help), {}, {}, {}, {}})
               .first;
    }
    SY_CHECK(it->second.type == type, fmt::format("metric {} registered as {} and requested as {}",
                                                  name, TypeName(it->second.type), TypeName(type)));
    return it->second;
  }
};

Registry::Registry() : state_(std::make_unique<State>()) {}
Registry::~Registry() = default;

Counter* Registry::GetCounter(std::string_view name, std::string_view help, const Labels& labels) {
  Labels key = Canonical(labels, false);
  MutexLock lock(&state_->mu);
  auto& slot = state_->FamilyFor(name, help, Type::kCounter).counters[std::move(key)];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

Gauge* Registry::GetGauge(std::string_view name, std::string_view help, const Labels& labels) {
  Labels key = Canonical(labels, false);
  MutexLock lock(&state_->mu);
  auto& slot = state_->FamilyFor(name, help, Type::kGauge).gauges[std::move(key)];
  if (!slot) slot = std::make_unique<Gauge>();
  return slot.get();
}

Histogram* Registry::GetHistogram(std::string_view name, std::string_view help,
                                  const Labels& labels, const std::vector<double>& upper_bounds) {
  Labels key = Canonical(labels, true);
  MutexLock lock(&state_->mu);
  Family& family = state_->FamilyFor(name, help, Type::kHistogram);
  if (family.upper_bounds.empty()) family.upper_bounds = upper_bounds;
  auto& slot = family.histograms[std::move(key)];
  if (!slot) slot = std::make_unique<Histogram>(family.upper_bounds);
  return slot.get();
}

std::string Registry::ExpositionText() const {
  std::string out;
  MutexLock lock(&state_->mu);
  for (const auto& [name, family] : state_->families) {
    out += fmt::format("# HELP {} {}\n", name, Escape(family.help, false));
    out += fmt::format("# TYPE {} {}\n", name, TypeName(family.type));
    for (const auto& [labels, counter] : family.counters) {
      out += fmt::format("{}{} {}\n", name, FormatLabels(labels), counter->value());
    }
    for (const auto& [labels, gauge] : family.gauges) {
      out += fmt::format("{}{} {}\n", name, FormatLabels(labels), FormatNumber(gauge->value()));
    }
    for (const auto& [labels, histogram] : family.histograms) {
      RenderHistogram(name, labels, *histogram, &out);
    }
  }
  return out;
}

}  // namespace switchyard::metrics
