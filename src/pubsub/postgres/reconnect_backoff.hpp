#pragma once
// Delay before the next reconnection attempt: 100 ms, doubling up to 5 s, back to 100 ms once a
// connection succeeds. Quick for a restart that takes a moment, gentle on a broker that stays
// down (one attempt per connection every 5 s).
#include <algorithm>
#include <chrono>

namespace cablecast::pubsub::postgres {

class ReconnectBackoff {
 public:
  static constexpr std::chrono::milliseconds kFirst{100};
  static constexpr std::chrono::milliseconds kMax{5000};

  // The delay to wait now; the next call returns twice as much, capped.
  std::chrono::milliseconds next() {
    auto delay = current_;
    current_ = std::min(current_ * 2, kMax);
    return delay;
  }
  void reset() { current_ = kFirst; }

 private:
  std::chrono::milliseconds current_ = kFirst;
};

}  // namespace cablecast::pubsub::postgres
