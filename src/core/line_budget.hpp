#pragma once
// A per-connection budget of log lines (implemented in log.cpp, next to the logger it guards).
#include <cstdint>

namespace cablecast::log {

// Lines a client can cause at will (bad commands, unknown actions, binary frames) are budgeted
// per connection: the first kFree, then one in kOneIn. Each line is a synchronous write that
// every event loop shares, so without it a client sending 6-byte bad frames would fill the disk
// at ~18 times its own bandwidth and slow every other client down.
class LineBudget {
 public:
  static constexpr std::uint32_t kFree = 20;
  static constexpr std::uint32_t kOneIn = 1000;
  // Whether to write the line about to be logged; counts it either way.
  bool allow();

 private:
  std::uint32_t count_ = 0;
};

}  // namespace cablecast::log
