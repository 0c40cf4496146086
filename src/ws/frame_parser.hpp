#pragma once
// Incremental RFC 6455 frame parser: bytes in, whole messages and control frames out.
//
// It is pure (no sockets), so unit tests and the fuzzer drive it with plain strings. The
// transport reads into a loop-wide scratch buffer and feeds it here; the parser keeps only the
// bytes of an incomplete frame and of a fragmented message, and frees them once consumed, so an
// idle connection holds no buffer at all.
#include <cablecast/defaults.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ws/frame.hpp"

namespace cablecast::ws {

// Receives what the parser decodes. Views are valid only during the call.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // A complete data message (all fragments joined). Text is already UTF-8 validated.
  virtual void on_message(Opcode opcode, std::string_view payload) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  virtual void on_pong(std::string_view payload) = 0;
  // A valid close frame. `code` is empty when the frame had no body (then the reply is 1000...
  // the caller decides). After this the parser ignores any further bytes.
  virtual void on_close(std::optional<std::uint16_t> code, std::string_view reason) = 0;
};

// Why parsing stopped: the close code to send and a short text for the log line.
struct ParseError {
  std::uint16_t close_code;  // 1002, 1007 or 1009
  std::string_view reason;   // static text, e.g. "unmasked client frame"
};

struct ParserOptions {
  // Largest message (after joining fragments) and largest single frame accepted; over it: 1009.
  std::size_t max_message_size = defaults::max_message_size;
  // Server side: every client frame must be masked (RFC 6455 5.1), else 1002.
  // Client side (load generator, tests): frames must NOT be masked.
  bool expect_masked = true;
};

class FrameParser {
 public:
  // A max_message_size over 4 GiB - 1 counts as 4 GiB - 1 (kept in 32 bits, see below).
  explicit FrameParser(ParserOptions options = {});

  // Consumes `bytes` (the parser may unmask them in place). Calls `sink` for every complete
  // message or control frame, in order. Returns the first protocol error; after an error or a
  // close frame, later calls do nothing and return the same state.
  std::optional<ParseError> feed(std::span<char> bytes, FrameSink& sink);

  // True once a close frame was received or an error occurred.
  bool finished() const noexcept { return finished_; }

  // Heap bytes held for incomplete frames / fragmented messages (0 when idle).
  std::size_t buffered_bytes() const noexcept;

 private:
  // Checks one complete frame (payload already unmasked) and hands it to `sink`.
  std::optional<ParseError> deliver(bool fin, Opcode opcode, std::span<char> payload,
                                    FrameSink& sink);
  // Records the first error, ends parsing and frees the buffers.
  std::optional<ParseError> fail(ParseError error);
  void release_buffers() noexcept;

  ParserOptions options() const { return {max_message_size_, expect_masked_}; }
  std::optional<ParseError> error() const;

  // Every connection has a parser, so its fields are packed (issue 12: 64 -> 32 B): the
  // options in 5 bytes, the first error as its close code and its reason's static text.
  const char* error_reason_ = nullptr;  // returned again by every feed() after the first error
  std::uint32_t max_message_size_;
  std::uint16_t error_reason_size_ = 0;
  std::uint16_t error_code_ = 0;  // 0: no error
  // Bytes of a frame not yet complete, and the payload of a fragmented message not yet
  // complete: made when a frame spans reads, freed once both are consumed, so an idle
  // connection's parser holds one null pointer instead of two strings (issue 12).
  struct Buffers {
    std::string partial;
    std::string fragments;
  };
  std::string& partial();
  std::string& fragments();
  // Frees the buffers once both are empty.
  void release_if_empty() noexcept;
  std::unique_ptr<Buffers> buffers_;
  Opcode fragmented_opcode_ = Opcode::continuation;  // continuation = no message in progress
  bool finished_ = false;
  bool expect_masked_;
};

}  // namespace cablecast::ws
