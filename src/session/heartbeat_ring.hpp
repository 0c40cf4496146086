#pragma once
// The welcomed sessions of one loop, spread round-robin over a few lists ("slices") so that the
// Action Cable heartbeat goes out one slice at a time instead of to every session at once.
//
// Why: a ping is a fan-out to every connection of the loop, as costly as a broadcast to all of
// them (at 10,000 clients on one core, ~50 ms of kernel sends). Sent all at once every 3 s it
// doubles the delivery time of whichever broadcast it meets: measured on the broadcast benchmark
// (10,000 clients, server on one core), the slowest samples came exactly 3 s apart and were
// 1.8x the median, against 1.3x with pings off. Sent a slice per tick, each connection is still
// pinged once per interval, and every broadcast shares the same small extra cost.
//
// Sessions unlink themselves (auto-unlink hooks), so removal needs no reference to the ring.
#include <boost/intrusive/list.hpp>
#include <cstddef>
#include <memory>

namespace cablecast::session {

class Session;

using SessionHook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;
// Auto-unlink hooks forbid a constant-time size: nothing needs the count (empty() is O(1)).
// The hook named explicitly: this header is read before Session is complete.
using SessionList = boost::intrusive::list<Session, boost::intrusive::base_hook<SessionHook>,
                                           boost::intrusive::constant_time_size<false>>;

class HeartbeatRing {
 public:
  // `slices` >= 1; one slice is the old all-at-once heartbeat.
  explicit HeartbeatRing(unsigned slices);
  HeartbeatRing(const HeartbeatRing&) = delete;
  HeartbeatRing& operator=(const HeartbeatRing&) = delete;

  // Adds a session to the next slice in turn (round-robin keeps the slices within one of each
  // other while sessions only arrive; departures may unbalance them, which costs nothing but a
  // less even spread).
  void add(Session& session);
  bool empty() const;
  std::size_t size() const;  // walks every slice: for tests and diagnostics, not hot paths
  unsigned slices() const { return count_; }

  // The slice whose heartbeat is due, advancing to the next; `first` is true when it is slice 0,
  // i.e. once per full interval.
  SessionList& next_due(bool& first);

  // Slice i (< slices()), for walks over every session (shutdown). Iterating needs Session
  // complete, which this header cannot provide: callers include session/session.hpp.
  SessionList& slice(unsigned i) { return slices_[i]; }

 private:
  std::unique_ptr<SessionList[]> slices_;
  unsigned count_;
  unsigned next_add_ = 0;
  unsigned next_due_ = 0;
};

}  // namespace cablecast::session
