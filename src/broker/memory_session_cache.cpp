#include "broker/memory_session_cache.hpp"

#include <boost/asio/post.hpp>
#include <optional>

namespace cablecast::broker {

namespace asio = boost::asio;

MemorySessionCache::MemorySessionCache(asio::io_context& timer_io, SteadyClockFn clock)
    : clock_(std::move(clock)),
      timer_(timer_io, std::chrono::seconds(1), [this] { return sweep(); }) {}

MemorySessionCache::~MemorySessionCache() { stop(); }

void MemorySessionCache::save(const std::string& sid, std::string state, std::chrono::seconds ttl) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    const auto ends = clock_() + ttl;
    saved_.insert_or_assign(sid, Saved{std::move(state), ends});
    deadlines_.emplace(ends, sid);
  }
  timer_.arm();
}

void MemorySessionCache::take(const std::string& sid, asio::any_io_executor ex, TakeFn done) {
  std::optional<std::string> state;
  {
    std::lock_guard lock(mutex_);
    if (auto it = saved_.find(sid); it != saved_.end()) {
      if (it->second.ends > clock_()) state = std::move(it->second.state);
      saved_.erase(it);  // taken once; an expired one goes too
    }
  }
  asio::post(
      ex, [done = std::move(done), state = std::move(state)]() mutable { done(std::move(state)); });
}

bool MemorySessionCache::sweep() {
  std::lock_guard lock(mutex_);
  const auto now = clock_();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    auto node = deadlines_.extract(deadlines_.begin());
    auto it = saved_.find(node.mapped());
    if (it != saved_.end() && it->second.ends <= now) saved_.erase(it);
  }
  return !deadlines_.empty() && !stopped_;
}

std::size_t MemorySessionCache::size() const {
  std::lock_guard lock(mutex_);
  return saved_.size();
}

void MemorySessionCache::stop() {
  timer_.stop();  // before taking the lock: a running sweep holds it
  std::lock_guard lock(mutex_);
  stopped_ = true;
  saved_.clear();
  deadlines_.clear();
}

}  // namespace cablecast::broker
