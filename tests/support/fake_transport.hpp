#pragma once
// A Transport that records what a session sends, decoding the (unmasked, server) text frames
// back to their JSON text so tests compare strings.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ws/transport.hpp"

namespace cablecast::testing {

inline std::string server_frame_payload(const std::string& frame) {
  std::size_t length = static_cast<unsigned char>(frame[1]) & 0x7F;
  std::size_t header = 2;
  if (length == 126) header = 4;
  if (length == 127) header = 10;
  return frame.substr(header);
}

class FakeTransport final : public ws::Transport {
 public:
  void send(SharedFrame frame) override {
    if (!closed_with) sent.push_back(server_frame_payload(*frame));
  }
  void close(std::uint16_t code, std::string_view) override {
    if (!closed_with) closed_with = code;
  }
  std::size_t queued_bytes() const override { return 0; }

  std::vector<std::string> sent;
  std::optional<std::uint16_t> closed_with;
};

}  // namespace cablecast::testing
