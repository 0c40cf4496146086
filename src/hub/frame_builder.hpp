#pragma once
// What a broadcast becomes on the wire for one subscription: the hub asks, the protocol layer
// answers (session::ActionCableFrames). Injected so that the hub is an index of streams to
// subscribers that knows no wire format: its tests and benchmarks can run it with any builder,
// without the protocol or sockets. Called once per distinct identifier per broadcast and shard
// (the hub caches the frame for the other subscribers), never per subscriber.
#include <cstdint>
#include <string_view>

#include "core/shared_frame.hpp"

namespace cablecast::hub {

class FrameBuilder {
 public:
  virtual ~FrameBuilder() = default;
  // The frame that carries `payload` (JSON) to a subscription of `identifier`; `type` is the
  // broadcast's type (empty: a plain broadcast).
  virtual SharedFrame message(std::string_view identifier, std::string_view payload,
                              std::string_view type) const = 0;
  // The same with the broadcast's place in its stream's history (AnyCable's extended protocol),
  // for subscriptions that asked for positions.
  virtual SharedFrame positioned(std::string_view identifier, std::string_view payload,
                                 std::string_view stream, std::string_view epoch,
                                 std::uint64_t offset) const = 0;
};

}  // namespace cablecast::hub
