// Feeds arbitrary bytes to the frame parser three ways (in one piece, split at points derived
// from the input, byte by byte) and checks that every delivery respects RFC 6455 and that the
// split never changes what is delivered.
//
// Input layout: byte 0 selects the mode (bit 7: client-side parser, i.e. unmasked frames;
// bit 6: tiny message limit; bits 0-5: split seed), the rest is the byte stream.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.hpp"
#include "ws/frame_parser.hpp"
#include "ws/utf8.hpp"

namespace {

using cablecast::ws::FrameParser;
using cablecast::ws::FrameSink;
using cablecast::ws::Opcode;
using cablecast::ws::ParseError;
using cablecast::ws::ParserOptions;

struct Event {
  char kind;  // 'm'essage, p'i'ng, p'o'ng, 'c'lose
  Opcode opcode;
  std::string payload;
  std::optional<std::uint16_t> code;
  bool operator==(const Event&) const = default;
};

bool valid_received_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

class CheckingSink : public FrameSink {
 public:
  explicit CheckingSink(std::size_t max_message) : max_message_(max_message) {}

  void on_message(Opcode opcode, std::string_view payload) override {
    CABLE_ASSERT(!closed_);
    CABLE_ASSERT(opcode == Opcode::text || opcode == Opcode::binary);
    CABLE_ASSERT(payload.size() <= max_message_);
    if (opcode == Opcode::text) CABLE_ASSERT(cablecast::ws::is_valid_utf8(payload));
    events.push_back({'m', opcode, std::string(payload), std::nullopt});
  }
  void on_ping(std::string_view payload) override {
    CABLE_ASSERT(!closed_);
    CABLE_ASSERT(payload.size() <= 125);
    events.push_back({'i', Opcode::ping, std::string(payload), std::nullopt});
  }
  void on_pong(std::string_view payload) override {
    CABLE_ASSERT(!closed_);
    CABLE_ASSERT(payload.size() <= 125);
    events.push_back({'o', Opcode::pong, std::string(payload), std::nullopt});
  }
  void on_close(std::optional<std::uint16_t> code, std::string_view reason) override {
    CABLE_ASSERT(!closed_);
    closed_ = true;
    CABLE_ASSERT(reason.size() <= 123);
    if (code) {
      CABLE_ASSERT(valid_received_close_code(*code));
    } else {
      CABLE_ASSERT(reason.empty());
    }
    CABLE_ASSERT(cablecast::ws::is_valid_utf8(reason));
    events.push_back({'c', Opcode::close, std::string(reason), code});
  }

  std::vector<Event> events;

 private:
  std::size_t max_message_;
  bool closed_ = false;
};

struct Outcome {
  std::vector<Event> events;
  std::optional<ParseError> error;
};

// Feeds `stream` in the pieces that end at `cuts` (ascending) and checks parser state.
Outcome run(const ParserOptions& options, std::string stream,
            const std::vector<std::size_t>& cuts) {
  FrameParser parser(options);
  CheckingSink sink(options.max_message_size);
  std::optional<ParseError> error;
  std::size_t start = 0;
  auto feed_piece = [&](std::size_t end) {
    if (end <= start) return;
    auto result = parser.feed(std::span<char>(stream.data() + start, end - start), sink);
    if (result) {
      CABLE_ASSERT(parser.finished());
      CABLE_ASSERT(result->close_code == 1002 || result->close_code == 1007 ||
                   result->close_code == 1009);
      if (error) CABLE_ASSERT(error->close_code == result->close_code);
      error = result;
    }
    start = end;
  };
  for (std::size_t cut : cuts) feed_piece(std::min(cut, stream.size()));
  feed_piece(stream.size());
  if (parser.finished()) {
    CABLE_ASSERT(parser.buffered_bytes() == 0);
    // Later bytes change nothing.
    std::string more = "\x81\x80xxxx";
    const std::size_t before = sink.events.size();
    auto again = parser.feed(std::span<char>(more.data(), more.size()), sink);
    CABLE_ASSERT(again.has_value() == error.has_value());
    CABLE_ASSERT(sink.events.size() == before);
  } else {
    CABLE_ASSERT(!error);
    // Whatever is buffered is bounded by one frame plus one message.
    CABLE_ASSERT(parser.buffered_bytes() <= 4 * (options.max_message_size + 64));
  }
  return {std::move(sink.events), error};
}

bool same(const Outcome& a, const Outcome& b) {
  if (a.events != b.events || a.error.has_value() != b.error.has_value()) return false;
  return !a.error || (a.error->close_code == b.error->close_code &&
                      std::string_view(a.error->reason) == std::string_view(b.error->reason));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  ParserOptions options;
  options.expect_masked = (mode & 0x80) == 0;
  options.max_message_size = (mode & 0x40) != 0 ? 16 : 1024;
  const std::string stream(reinterpret_cast<const char*>(data + 1), size - 1);

  const Outcome whole = run(options, stream, {});

  // A few cut points from a small generator seeded by the mode bits and the length.
  std::vector<std::size_t> cuts;
  std::uint32_t state = (mode & 0x3F) * 2654435761u + static_cast<std::uint32_t>(stream.size());
  std::size_t at = 0;
  for (int i = 0; i < 6 && !stream.empty(); ++i) {
    state = state * 1103515245u + 12345u;
    at += 1 + (state >> 16) % (stream.size() / 3 + 2);
    cuts.push_back(at);
  }
  CABLE_ASSERT(same(whole, run(options, stream, cuts)));

  if (stream.size() <= 512) {
    std::vector<std::size_t> every_byte;
    for (std::size_t i = 1; i < stream.size(); ++i) every_byte.push_back(i);
    CABLE_ASSERT(same(whole, run(options, stream, every_byte)));
  }
  return 0;
}
