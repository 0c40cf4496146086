#pragma once
// Presence (AnyCable's extended protocol): who is in a stream. A member is a presence id
// (usually a user id) with an info JSON value; one member however many sessions (tabs, nodes)
// joined with that id. Events go to the stream's subscribers: "join" when an id gains its first
// session, "leave" when it loses its last one: at once on an explicit leave or unsubscribe,
// after --presence-ttl when the session's connection closed (so a reconnecting tab does not
// flicker) or its node died (Redis: live entries are refreshed by their node; a dead node's
// expire).
//
// Stores: MemoryPresence (one process) and RedisPresence (every node, Lua scripts, expiry swept
// by any node; each expired entry produces its leave event exactly once).
#include <boost/asio/any_io_executor.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace cablecast::broker {

struct PresenceMember {
  std::string id;
  std::string info;  // JSON text; "null" when the client sent none
};

struct PresenceEvent {
  enum class Kind { join, leave };
  Kind kind;
  std::string stream;
  PresenceMember member;  // leave: info is "null"
};

// Where the store hands the events it decided: the server publishes each as a transient
// broadcast with broadcast_type "presence" (protocol::encode_presence_event). Any thread.
using PresenceEventFn = std::function<void(PresenceEvent)>;

struct PresenceOptions {
  std::chrono::seconds ttl{15};  // how long a closed session's membership outlives it
};

using PresenceInfoFn = std::function<void(boost::system::result<std::vector<PresenceMember>>)>;

class Presence {
 public:
  virtual ~Presence() = default;

  // Called once before use: where events go.
  virtual void start(PresenceEventFn on_event) = 0;

  // Session `sid` is `member.id` in `stream` (again: info updated, no event). Any thread.
  virtual void join(const std::string& stream, const std::string& sid, PresenceMember member) = 0;
  // Session `sid` leaves `stream` at once (explicit leave, unsubscribe). Unknown: ignored.
  virtual void leave(const std::string& stream, const std::string& sid) = 0;
  // Session `sid`'s connection closed: its membership of `stream` ends after the ttl, unless the
  // same presence id is still joined from another session then.
  virtual void expire(const std::string& stream, const std::string& sid) = 0;

  // The members of `stream`, one per id. `done` is posted to `ex`.
  virtual void members(const std::string& stream, boost::asio::any_io_executor ex,
                       PresenceInfoFn done) = 0;

  // Stops timers and connections (shutdown).
  virtual void stop() = 0;
};

}  // namespace cablecast::broker
