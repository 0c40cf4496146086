#pragma once
// One clock for the whole generator: steady_clock nanoseconds, comparable across its threads
// (broadcast timestamps are taken on the sender's thread and compared on every receiver's).
#include <chrono>
#include <cstdint>

namespace cablecast::bench {

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline double seconds_between(std::int64_t from_ns, std::int64_t to_ns) {
  return static_cast<double>(to_ns - from_ns) / 1e9;
}

}  // namespace cablecast::bench
