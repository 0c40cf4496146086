#pragma once
// Resumable sessions (AnyCable's extended protocol): the state of an ext-protocol session is
// kept under its sid for --sessions-ttl after its connection closed, so the client reconnecting
// with that sid (query "sid" or header X-AnyCable-Restore-Sid) gets its identity and
// subscriptions back without authenticating again. The state is opaque JSON text here (the
// session writes and reads it: session/session_state.hpp).
//
// Stores: MemorySessionCache (one process) and RedisSessionCache (SET with EX / GETDEL, so a
// client may come back on any node).
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace cablecast::broker {

using TakeFn = std::function<void(std::optional<std::string>)>;

class SessionCache {
 public:
  virtual ~SessionCache() = default;
  // Keeps `state` under `sid` for `ttl` (replacing what was there). Any thread.
  virtual void save(const std::string& sid, std::string state, std::chrono::seconds ttl) = 0;
  // Removes and returns the state under `sid` (nothing: unknown or expired, or the store is
  // unreachable). A state is taken once. `done` is posted to `ex`.
  virtual void take(const std::string& sid, boost::asio::any_io_executor ex, TakeFn done) = 0;
  virtual void stop() = 0;
  // Whether what it keeps outlives this process (Redis). Only then is a live session's state
  // worth saving before it closes (so a client whose node died can restore elsewhere); an
  // in-process cache gets a session's state once, when it closes.
  virtual bool outlives_process() const = 0;
};

}  // namespace cablecast::broker
