// A session's part in remote disconnects (broadcast/remote_disconnect.hpp). As Rails'
// InternalChannel: an identified connection listens on "action_cable/<connection identifier>"
// and closes when a disconnect for it arrives there, from Rails' remote_connections or from
// AnyCable's disconnect command. Cost: one hub entry per distinct identity on each loop (every
// connection of one identity shares it, e.g. all the binary's "anonymous" ones) and a pointer
// per connection; on Redis or PostgreSQL one broker channel per identity, as Rails takes.
#include <utility>

#include "broadcast/remote_disconnect.hpp"
#include "core/log.hpp"
#include "session/session.hpp"

namespace cablecast::session {

void Session::join_internal_channel(const boost::json::object& identifiers) {
  std::string stream = broadcast::internal_stream(identifiers);
  if (stream.empty()) return;  // no identifier: nothing could name this connection
  internal_channel_ = true;
  // As Rails logs it; tests read the sid here to exclude this connection from a broadcast.
  CC_LOG_DEBUG("Registered connection {} ({})", sid_.view(), log::clip(stream));
  // A broker failure is logged by the hub; the connection works on without remote disconnects.
  env_.hub.listen(stream, this, [](boost::system::error_code) {});
}

void Session::leave_internal_channel() {
  if (!std::exchange(internal_channel_, false)) return;
  env_.hub.unlisten(broadcast::internal_stream(identifiers()), this);
}

void Session::on_stream_message(std::string_view message) {
  auto request = broadcast::parse_internal_message(message);
  if (!request || closed_) return;
  // AnyCable's command names the identifiers themselves: several identities may share one
  // connection identifier (Rails' sorted values), so compare the objects (key order aside).
  const boost::json::object mine = identifiers();
  if (request->identifiers && *request->identifiers != mine) return;
  CC_LOG_INFO("Removing connection {} ({}): remote disconnect", sid_.view(),
              log::clip(broadcast::connection_identifier(mine)));
  disconnect("remote", request->reconnect);
}

}  // namespace cablecast::session
