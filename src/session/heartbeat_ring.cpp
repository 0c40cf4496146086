#include "session/heartbeat_ring.hpp"

#include "core/assert.hpp"
#include "session/session.hpp"

namespace cablecast::session {

HeartbeatRing::HeartbeatRing(unsigned slices)
    : slices_(std::make_unique<SessionList[]>(slices)), count_(slices) {
  CABLE_ASSERT(slices >= 1);
}

void HeartbeatRing::add(Session& session) {
  CABLE_ASSERT(!session.is_linked());
  slices_[next_add_].push_back(session);
  next_add_ = (next_add_ + 1) % count_;
}

bool HeartbeatRing::empty() const {
  for (unsigned i = 0; i < count_; ++i) {
    if (!slices_[i].empty()) return false;
  }
  return true;
}

std::size_t HeartbeatRing::size() const {
  std::size_t total = 0;
  for (unsigned i = 0; i < count_; ++i) total += slices_[i].size();
  return total;
}

SessionList& HeartbeatRing::next_due(bool& first) {
  first = next_due_ == 0;
  SessionList& due = slices_[next_due_];
  next_due_ = (next_due_ + 1) % count_;
  return due;
}

}  // namespace cablecast::session
