#pragma once
// Runs an event loop that polls for a while before it sleeps. A thread that blocks in epoll
// across a request that takes milliseconds pays the wake-up of an idle core (tens of µs on a
// VM whose idle vCPUs halt); one that keeps polling answers at once and keeps its core busy.
// Used by the HTTP server's I/O threads (`serve --poll-us`) and the load generator's client
// threads (`bench --poll-us`).

#include "switchyard/clock.h"

namespace switchyard {

// Runs `context` (an asio::io_context, or anything with run(), run_one(), poll() and
// stopped() that behave like its own) until it is stopped or out of work. With `poll` > 0,
// after each piece of work it keeps asking for more without blocking for up to `poll`, and only
// then blocks for the next.
template <typename Context>
void RunPolling(Context& context, Duration poll) {
  if (poll <= Duration::zero()) {
    context.run();
    return;
  }
  Clock* clock = SteadyClock::Get();
  while (!context.stopped()) {
    TimePoint until = clock->Now() + poll;
    while (!context.stopped() && clock->Now() < until) {
      if (context.poll() > 0) until = clock->Now() + poll;
    }
    if (!context.stopped()) context.run_one();
  }
}

}  // namespace switchyard
