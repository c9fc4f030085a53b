#include "switchyard/clock.h"

namespace switchyard {

SteadyClock* SteadyClock::Get() {
  static SteadyClock clock;
  return &clock;
}

}  // namespace switchyard
