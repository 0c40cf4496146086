#pragma once
// A connection asking to restore a session: its upgrade request, kept while the session cache
// is asked (asynchronously), so that a miss can authenticate it as usual.
#include <string>

#include "session/session.hpp"
#include "ws/handshake.hpp"

namespace cablecast::session {

struct Session::PendingRestore {
  ws::Request request;
  std::string remote_address;
  std::string subprotocol;
};

}  // namespace cablecast::session
