#pragma once
// Where the session makes the public ConnectionRequest (whose constructor is private) from the
// transport's upgrade request.
#include <cablecast/connection.hpp>

#include "ws/transport.hpp"

namespace cablecast::detail {

struct ConnectionRequestFactory {
  // A view of `info.request`, valid as long as it is (the upgrade's handling).
  static ConnectionRequest make(const ws::UpgradeInfo& info) {
    return ConnectionRequest(&info.request, info.remote_address);
  }
};

}  // namespace cablecast::detail
