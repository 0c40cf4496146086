#pragma once
// Builds RFC 6455 frames. Server frames are unmasked, so one encoded frame can be shared by
// every connection that sends it (see core/shared_frame.hpp).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/shared_frame.hpp"
#include "ws/frame.hpp"

namespace cablecast::ws {

// Appends a complete unmasked frame (FIN set) to `out`.
void append_frame(std::string& out, Opcode opcode, std::string_view payload);

// A complete unmasked frame with FIN set.
std::string encode_frame(Opcode opcode, std::string_view payload);

// The usual case on the delivery path: one text frame, ready to share.
SharedFrame make_text_frame(std::string_view payload);

// A close frame with a status code and a UTF-8 reason (truncated to fit the 125-byte limit).
std::string encode_close(std::uint16_t code, std::string_view reason = {});

// A masked frame as a client sends it (tests, load generator). `fin` false starts/continues a
// fragmented message.
std::string encode_client_frame(Opcode opcode, std::string_view payload,
                                std::array<std::uint8_t, 4> mask, bool fin = true);

}  // namespace cablecast::ws
