#pragma once
// The objects inside AnyCable's extension commands ("history" and "presence"), decoded from the
// JSON text of that one value. Kept apart from the frame decoder: these are rare commands, so
// they go through Boost.JSON for clarity, while the hot path (message, subscribe) never does.
#include <boost/system/result.hpp>
#include <string_view>

#include "protocol/command.hpp"

namespace cablecast::protocol {

// `json`: the JSON text of a "history" value. The result may ask for nothing (since 0, no
// streams): a "subscribe" treats that as no history, a "history" command as bad_history.
// Errors: bad_history, over_limit, too_deep.
boost::system::result<HistoryRequest> decode_history(std::string_view json);

// `json`: the JSON text of a "presence" value. Errors: bad_presence, over_limit, too_deep.
boost::system::result<PresenceRequest> decode_presence(std::string_view json);

}  // namespace cablecast::protocol
