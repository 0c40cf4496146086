#include "session/action_cable_frames.hpp"

#include "protocol/encode.hpp"
#include "ws/frame_encoder.hpp"

namespace cablecast::session {

SharedFrame ActionCableFrames::message(std::string_view identifier, std::string_view payload,
                                       std::string_view type) const {
  return ws::make_text_frame(type.empty()
                                 ? protocol::encode_message(identifier, payload)
                                 : protocol::encode_typed_message(type, identifier, payload));
}

SharedFrame ActionCableFrames::positioned(std::string_view identifier, std::string_view payload,
                                          std::string_view stream, std::string_view epoch,
                                          std::uint64_t offset) const {
  return ws::make_text_frame(
      protocol::encode_positioned_message(identifier, payload, stream, epoch, offset));
}

}  // namespace cablecast::session
