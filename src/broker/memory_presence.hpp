#pragma once
// Presence for one process. A mutex guards everything (joins and leaves are rare next to
// messages); events are handed to the callback under it, so they leave in the order they were
// decided. Expiry: expire() marks a session to end at now + ttl, and a SweepTimer on `timer_io`
// ends what is due about every second while something is pending (no timer per session, none at
// all when nothing expires), so a leave comes between ttl and ttl + 1 s after the disconnect.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/presence.hpp"
#include "broker/sweep_timer.hpp"

namespace cablecast::broker {

class MemoryPresence final : public Presence {
 public:
  // `timer_io` runs the expiry sweep (one thread runs it: any loop, or the broker loop).
  MemoryPresence(boost::asio::io_context& timer_io, PresenceOptions options,
                 SteadyClockFn clock = &std::chrono::steady_clock::now);
  ~MemoryPresence() override;

  // `on_event` must not call back into this object (it runs under the lock).
  void start(PresenceEventFn on_event) override;
  void join(const std::string& stream, const std::string& sid, PresenceMember member) override;
  void leave(const std::string& stream, const std::string& sid) override;
  void expire(const std::string& stream, const std::string& sid) override;
  void members(const std::string& stream, boost::asio::any_io_executor ex,
               PresenceInfoFn done) override;
  void stop() override;

  // Ends the memberships whose time has come; returns whether some are still waiting. The timer
  // calls it; tests call it after moving their clock.
  bool sweep();
  // Streams with at least one member (tests: nothing is kept for an empty stream).
  std::size_t stream_count() const;

 private:
  struct Member {
    std::string info;
    std::vector<std::string> sids;  // usually one or two (tabs)
  };
  struct Session {
    std::string id;
    bool ending = false;
    std::chrono::steady_clock::time_point ends;
  };
  struct Stream {
    std::map<std::string, Member> members;  // by id: info replies come sorted
    std::unordered_map<std::string, Session> sessions;
  };
  using StreamMap = std::unordered_map<std::string, Stream>;

  // Removes the session; emits leave when its id had no other. May erase the stream.
  void remove_session(StreamMap::iterator stream, const std::string& sid);
  void emit(PresenceEvent::Kind kind, const std::string& stream, PresenceMember member);

  const PresenceOptions options_;
  const SteadyClockFn clock_;
  mutable std::mutex mutex_;
  PresenceEventFn on_event_;
  StreamMap streams_;
  // When each expiring session ends: checked against the session when due (a re-join or a
  // second expire leaves a stale entry here, skipped then), so nothing is searched on re-join.
  std::multimap<std::chrono::steady_clock::time_point, std::pair<std::string, std::string>>
      deadlines_;
  bool stopped_ = false;
  SweepTimer timer_;  // last: stopped and destroyed first
};

}  // namespace cablecast::broker
