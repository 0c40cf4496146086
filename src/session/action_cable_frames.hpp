#pragma once
// The hub's frames in the Action Cable protocol (and AnyCable's positioned messages): the JSON
// of protocol/encode.hpp in one WebSocket text frame.
#include "hub/frame_builder.hpp"

namespace cablecast::session {

class ActionCableFrames final : public hub::FrameBuilder {
 public:
  SharedFrame message(std::string_view identifier, std::string_view payload,
                      std::string_view type) const override;
  SharedFrame positioned(std::string_view identifier, std::string_view payload,
                         std::string_view stream, std::string_view epoch,
                         std::uint64_t offset) const override;
};

}  // namespace cablecast::session
