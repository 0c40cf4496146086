#pragma once
// Closing connections from elsewhere: Rails' remote_connections and AnyCable's disconnect
// command, both carried on Rails' internal broadcasting of each identified connection.
//
// Rails (ActionCable::Connection::InternalChannel): a connection with identifiers streams from
// "action_cable/<connection identifier>", where the connection identifier is each identifier
// value as text, sorted, joined with ":" (a GlobalID as its to_gid_param, which is what
// anycable-rails and JWT tokens already carry as the value). remote_connections.where(...)
// .disconnect publishes {"type":"disconnect","reconnect":true} there; every connection on it
// closes with {"type":"disconnect","reason":"remote","reconnect":…}.
//
// AnyCable's command {"command":"disconnect","payload":{"identifier":"<JSON>",…}} becomes the
// same message on the same broadcasting, plus "identifiers": a connection closes only when its
// identifiers equal those (as JSON objects), since two sets of identifiers can share one
// connection identifier. Rails processes on the broker ignore the extra key and close theirs.
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "broadcast/publication.hpp"

namespace cablecast::broadcast {

// Rails' connection_identifier; empty when no identifier has a value (null and false count as
// none, as Ruby's filter_map drops them): such a connection has no internal broadcasting.
std::string connection_identifier(const boost::json::object& identifiers);

// "action_cable/<connection identifier>", or empty when it has none.
std::string internal_stream(const boost::json::object& identifiers);

// The message AnyCable's command becomes (see above).
std::string encode_internal_disconnect(const RemoteDisconnect& disconnect);

struct InternalMessage {
  bool reconnect = true;                           // Rails 7.0 sent no "reconnect": it meant true
  std::optional<boost::json::object> identifiers;  // only connections with these (if given)
};

// A message of an internal broadcasting; nothing for anything but a disconnect (Rails ignores
// other types too) or text that is not a JSON object.
std::optional<InternalMessage> parse_internal_message(std::string_view message);

}  // namespace cablecast::broadcast
