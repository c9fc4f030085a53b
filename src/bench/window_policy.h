#pragma once
// When to stop measuring a level: after each window, its throughput is compared with the
// previous window's; two consecutive windows that agree make the level stable. Pure logic, no
// time: the runner feeds it one throughput per window.

#include <vector>

namespace switchyard::bench {

// True when |a - b| <= tolerance * max(a, b) (so two idle windows, both 0, agree).
// REQUIRES: a >= 0, b >= 0
bool WindowsAgree(double a, double b, double tolerance);

class StabilityTracker {
 public:
  enum class Decision {
    kContinue,  // measure another window
    kStable,    // the last two windows agree
    kUnstable,  // max_windows reached without agreement
  };

  // REQUIRES: tolerance > 0, max_windows >= 1. With max_windows == 1 the single window is
  // reported unstable (nothing to compare it with).
  StabilityTracker(double tolerance, int max_windows)
      : tolerance_(tolerance), max_windows_(max_windows) {}

  // Adds the throughput of the window just measured.
  // REQUIRES: the previous call did not return kStable or kUnstable.
  Decision AddWindow(double throughput);

  const std::vector<double>& throughputs() const { return throughputs_; }

 private:
  const double tolerance_;
  const int max_windows_;
  std::vector<double> throughputs_;
};

}  // namespace switchyard::bench
