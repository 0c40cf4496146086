#include "broker/memory_presence.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "core/assert.hpp"

namespace cablecast::broker {

namespace asio = boost::asio;

MemoryPresence::MemoryPresence(asio::io_context& timer_io, PresenceOptions options,
                               SteadyClockFn clock)
    : options_(options),
      clock_(std::move(clock)),
      timer_(timer_io, std::chrono::seconds(1), [this] { return sweep(); }) {}

MemoryPresence::~MemoryPresence() { stop(); }

void MemoryPresence::start(PresenceEventFn on_event) {
  std::lock_guard lock(mutex_);
  on_event_ = std::move(on_event);
}

void MemoryPresence::emit(PresenceEvent::Kind kind, const std::string& stream,
                          PresenceMember member) {
  if (on_event_) on_event_(PresenceEvent{kind, stream, std::move(member)});
}

void MemoryPresence::join(const std::string& stream, const std::string& sid,
                          PresenceMember member) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  auto s = streams_.try_emplace(stream).first;
  if (auto it = s->second.sessions.find(sid); it != s->second.sessions.end()) {
    if (it->second.id == member.id) {
      // Joined again: still one member; a pending expiry is cancelled, the info is the latest.
      it->second.ending = false;
      s->second.members[member.id].info = std::move(member.info);
      return;
    }
    // The session now stands for another id: the old one loses it first.
    remove_session(s, sid);
    s = streams_.try_emplace(stream).first;
  }
  s->second.sessions.emplace(sid, Session{member.id, false, {}});
  auto [m, is_new] = s->second.members.try_emplace(member.id);
  m->second.info = member.info;
  m->second.sids.push_back(sid);
  if (is_new) emit(PresenceEvent::Kind::join, stream, std::move(member));
}

void MemoryPresence::leave(const std::string& stream, const std::string& sid) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  if (auto s = streams_.find(stream); s != streams_.end()) remove_session(s, sid);
}

void MemoryPresence::expire(const std::string& stream, const std::string& sid) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    auto s = streams_.find(stream);
    if (s == streams_.end()) return;
    auto it = s->second.sessions.find(sid);
    if (it == s->second.sessions.end() || it->second.ending) return;
    it->second.ending = true;
    it->second.ends = clock_() + options_.ttl;
    deadlines_.emplace(it->second.ends, std::make_pair(stream, sid));
  }
  timer_.arm();
}

void MemoryPresence::remove_session(StreamMap::iterator s, const std::string& sid) {
  auto& stream = s->second;
  auto it = stream.sessions.find(sid);
  if (it == stream.sessions.end()) return;
  const std::string id = std::move(it->second.id);
  stream.sessions.erase(it);
  auto m = stream.members.find(id);
  CABLE_ASSERT(m != stream.members.end());
  auto& sids = m->second.sids;
  sids.erase(std::find(sids.begin(), sids.end(), sid));
  if (!sids.empty()) return;
  stream.members.erase(m);
  const std::string name = s->first;
  if (stream.members.empty()) streams_.erase(s);
  emit(PresenceEvent::Kind::leave, name, PresenceMember{id, "null"});
}

bool MemoryPresence::sweep() {
  std::lock_guard lock(mutex_);
  const auto now = clock_();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    auto node = deadlines_.extract(deadlines_.begin());
    const auto& [stream, sid] = node.mapped();
    auto s = streams_.find(stream);
    if (s == streams_.end()) continue;
    auto it = s->second.sessions.find(sid);
    // Still ending, and at this deadline (not re-joined, not re-expired later).
    if (it == s->second.sessions.end() || !it->second.ending || it->second.ends != node.key()) {
      continue;
    }
    remove_session(s, sid);
  }
  return !deadlines_.empty() && !stopped_;
}

void MemoryPresence::members(const std::string& stream, asio::any_io_executor ex,
                             PresenceInfoFn done) {
  std::vector<PresenceMember> found;
  {
    std::lock_guard lock(mutex_);
    if (auto s = streams_.find(stream); s != streams_.end()) {
      found.reserve(s->second.members.size());
      for (const auto& [id, member] : s->second.members) found.push_back({id, member.info});
    }
  }
  asio::post(
      ex, [done = std::move(done), found = std::move(found)]() mutable { done(std::move(found)); });
}

std::size_t MemoryPresence::stream_count() const {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

void MemoryPresence::stop() {
  timer_.stop();  // before taking the lock: a running sweep holds it
  std::lock_guard lock(mutex_);
  stopped_ = true;
  on_event_ = nullptr;
}

}  // namespace cablecast::broker
