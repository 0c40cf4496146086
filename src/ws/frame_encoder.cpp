#include "ws/frame_encoder.hpp"

#include <cstddef>

#include "core/assert.hpp"

namespace cablecast::ws {
namespace {

constexpr std::uint8_t kFinBit = 0x80;
constexpr std::uint8_t kMaskBit = 0x80;
constexpr std::size_t kMaxControlPayload = 125;

std::size_t header_size(std::size_t payload_size, bool masked) {
  std::size_t size = 2;
  if (payload_size > 0xFFFF) {
    size += 8;
  } else if (payload_size >= 126) {
    size += 2;
  }
  return masked ? size + 4 : size;
}

// Writes the first two bytes plus the extended length, using the shortest form RFC 6455 5.2
// allows (7-bit, then 16-bit, then 64-bit).
void append_header(std::string& out, std::uint8_t first_byte, std::size_t payload_size,
                   bool masked) {
  const std::uint8_t mask_bit = masked ? kMaskBit : 0;
  out.push_back(static_cast<char>(first_byte));
  if (payload_size < 126) {
    out.push_back(static_cast<char>(mask_bit | payload_size));
  } else if (payload_size <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>((payload_size >> 8) & 0xFF));
    out.push_back(static_cast<char>(payload_size & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    const auto length = static_cast<std::uint64_t>(payload_size);
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((length >> shift) & 0xFF));
    }
  }
}

bool is_control(Opcode opcode) { return (static_cast<std::uint8_t>(opcode) & 0x8) != 0; }

}  // namespace

void append_frame(std::string& out, Opcode opcode, std::string_view payload) {
  CABLE_ASSERT(!is_control(opcode) || payload.size() <= kMaxControlPayload);
  out.reserve(out.size() + header_size(payload.size(), false) + payload.size());
  append_header(out, kFinBit | static_cast<std::uint8_t>(opcode), payload.size(), false);
  out.append(payload);
}

std::string encode_frame(Opcode opcode, std::string_view payload) {
  std::string out;
  append_frame(out, opcode, payload);
  return out;
}

SharedFrame make_text_frame(std::string_view payload) {
  return make_shared_frame(encode_frame(Opcode::text, payload));
}

std::string encode_close(std::uint16_t code, std::string_view reason) {
  // 1005 and 1006 only describe a missing or broken close locally; RFC 6455 7.4.1 forbids
  // putting them on the wire.
  CABLE_ASSERT(code != close_code::no_status && code != close_code::abnormal);
  constexpr std::size_t kMaxReason = kMaxControlPayload - 2;
  if (reason.size() > kMaxReason) {
    // Cut at a character boundary: back up over continuation bytes (10xxxxxx) so the byte at
    // the cut starts a character and the kept prefix stays valid UTF-8.
    std::size_t cut = kMaxReason;
    while (cut > 0 && (static_cast<std::uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;
    reason = reason.substr(0, cut);
  }
  std::string payload;
  payload.reserve(2 + reason.size());
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return encode_frame(Opcode::close, payload);
}

std::string encode_client_frame(Opcode opcode, std::string_view payload,
                                std::array<std::uint8_t, 4> mask, bool fin) {
  std::string out;
  out.reserve(header_size(payload.size(), true) + payload.size());
  append_header(out, (fin ? kFinBit : 0) | static_cast<std::uint8_t>(opcode), payload.size(), true);
  for (std::uint8_t byte : mask) out.push_back(static_cast<char>(byte));
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ mask[i % 4]));
  }
  return out;
}

}  // namespace cablecast::ws
