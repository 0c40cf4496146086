#pragma once
// What a resumable session keeps in the session cache (broker/session_cache.hpp) when its
// connection closes: who it is and what it subscribed to, as data. Restoring it re-creates the
// subscriptions without asking the application again:
// - RPC subscriptions get their streams and istate back as they were (no subscribe call);
// - C++ channels (the built-in $pubsub and Turbo::StreamsChannel too) are created afresh from
//   their identifier: subscribed() runs again with the restored connection identifiers, and
//   whatever the old channel object held in its members is gone (keep state in streams or in
//   the identifier, as Rails channels do). No confirmation frame is sent for them.
// Pure: JSON text in, values out.
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "rpc/messages.hpp"

namespace cablecast::session {

struct SavedSubscription {
  std::string identifier;
  bool rpc = false;                  // served by the application over RPC
  rpc::StringMap istate;             // RPC only
  std::vector<std::string> streams;  // RPC only: C++ channels stream again in subscribed()
  // The presence this session had joined on the subscription's presence stream: the restored
  // session takes the membership over at once (no leave/join flicker, no stale membership).
  std::string presence_stream;
  std::string presence_id;  // empty: not joined
  std::string presence_info = "null";
};

struct SavedSession {
  std::string sid;  // the session it was (its presence memberships are taken over)
  boost::json::object identifiers;
  std::string rpc_identifiers;  // the application's own text of them (RPC servers)
  rpc::StringMap cstate;
  std::vector<SavedSubscription> subscriptions;
};

std::string encode_session_state(const SavedSession& session);
// Errors: anything that is not a state this version wrote (it is then ignored: the client
// authenticates afresh).
boost::system::result<SavedSession> decode_session_state(std::string_view text);

}  // namespace cablecast::session
