#pragma once
// Delay before the next reconnection attempt of a broker connection (Redis and PostgreSQL alike):
// by default 100 ms, doubling up to 5 s, back to the first delay once a connection succeeds.
// Quick for a restart that takes a moment, gentle on a broker that stays down (one attempt per
// connection every 5 s).
#include <algorithm>
#include <chrono>

namespace cablecast::pubsub {

class ReconnectBackoff {
 public:
  static constexpr std::chrono::milliseconds kFirst{100};
  static constexpr std::chrono::milliseconds kMax{5000};

  ReconnectBackoff() = default;
  ReconnectBackoff(std::chrono::milliseconds first, std::chrono::milliseconds max)
      : first_(first), max_(max), current_(first) {}

  // The delay to wait now; the next call returns twice as much, capped.
  std::chrono::milliseconds next() {
    auto delay = current_;
    current_ = std::min(current_ * 2, max_);
    return delay;
  }
  // What next() will return, for log lines.
  std::chrono::milliseconds upcoming() const { return current_; }
  void reset() { current_ = first_; }

 private:
  std::chrono::milliseconds first_ = kFirst;
  std::chrono::milliseconds max_ = kMax;
  std::chrono::milliseconds current_ = kFirst;
};

}  // namespace cablecast::pubsub
