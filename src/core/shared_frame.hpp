#pragma once
// The one vocabulary type of the delivery path: an encoded, immutable wire frame.
//
// A broadcast is turned into WebSocket bytes once (per identifier, per loop) and the same
// buffer is queued on every subscriber's connection, so the bytes must never change after
// creation and their lifetime must follow the last connection that still has them queued.
#include <memory>
#include <string>

namespace cablecast {

using SharedFrame = std::shared_ptr<const std::string>;

inline SharedFrame make_shared_frame(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

}  // namespace cablecast
