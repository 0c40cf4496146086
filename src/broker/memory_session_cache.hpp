#pragma once
// The session cache for one process: sid -> (state, end of its ttl) under a mutex. Memory stays
// bounded by what was saved within one ttl: a SweepTimer on `timer_io` drops expired states
// about every second while any is kept (and take() never returns one past its ttl, swept or
// not).
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "broker/session_cache.hpp"
#include "broker/sweep_timer.hpp"

namespace cablecast::broker {

class MemorySessionCache final : public SessionCache {
 public:
  explicit MemorySessionCache(boost::asio::io_context& timer_io,
                              SteadyClockFn clock = &std::chrono::steady_clock::now);
  ~MemorySessionCache() override;

  void save(const std::string& sid, std::string state, std::chrono::seconds ttl) override;
  void take(const std::string& sid, boost::asio::any_io_executor ex, TakeFn done) override;
  bool outlives_process() const override { return false; }
  void stop() override;

  // Drops the states past their ttl; returns whether some are still kept. The timer calls it;
  // tests call it after moving their clock.
  bool sweep();
  std::size_t size() const;

 private:
  struct Saved {
    std::string state;
    std::chrono::steady_clock::time_point ends;
  };

  const SteadyClockFn clock_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Saved> saved_;
  // When each state ends; an entry whose state was replaced or taken meanwhile is skipped.
  std::multimap<std::chrono::steady_clock::time_point, std::string> deadlines_;
  bool stopped_ = false;
  SweepTimer timer_;  // last: stopped and destroyed first
};

}  // namespace cablecast::broker
