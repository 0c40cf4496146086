#include "ws/frame_parser.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "core/assert.hpp"
#include "ws/utf8.hpp"

namespace cablecast::ws {
namespace {

constexpr std::size_t kMaxControlPayload = 125;
constexpr std::size_t kMaxHeaderSize = 14;  // 2 + 8 (64-bit length) + 4 (mask)

constexpr ParseError kReservedBits{close_code::protocol_error, "reserved bits set"};
constexpr ParseError kUnknownOpcode{close_code::protocol_error, "unknown opcode"};
constexpr ParseError kFragmentedControl{close_code::protocol_error, "fragmented control frame"};
constexpr ParseError kControlTooLong{close_code::protocol_error, "control frame over 125 bytes"};
constexpr ParseError kUnexpectedContinuation{close_code::protocol_error,
                                             "continuation without a message in progress"};
constexpr ParseError kInterleavedMessage{close_code::protocol_error,
                                         "new message inside a fragmented message"};
constexpr ParseError kUnmasked{close_code::protocol_error, "unmasked client frame"};
constexpr ParseError kMasked{close_code::protocol_error, "masked server frame"};
constexpr ParseError kLengthMsb{close_code::protocol_error, "64-bit length with the top bit set"};
constexpr ParseError kTooBig{close_code::message_too_big, "message too big"};
constexpr ParseError kBadText{close_code::invalid_payload, "text message is not UTF-8"};
constexpr ParseError kOneByteClose{close_code::protocol_error, "close frame with a 1-byte body"};
constexpr ParseError kBadCloseCode{close_code::protocol_error, "invalid close code"};
constexpr ParseError kBadCloseReason{close_code::invalid_payload, "close reason is not UTF-8"};

bool is_control(Opcode opcode) { return (static_cast<std::uint8_t>(opcode) & 0x8) != 0; }

bool is_known_opcode(std::uint8_t opcode) {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

// Codes a peer may send (RFC 6455 7.4.1/7.4.2 and the IANA registry as Autobahn tests it):
// 1004-1006 are reserved or local-only, 1012-2999 are not assigned for endpoints to send,
// 3000-4999 belong to libraries and applications.
bool is_valid_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

struct FrameHeader {
  bool fin = false;
  Opcode opcode = Opcode::continuation;
  bool masked = false;
  std::array<std::uint8_t, 4> mask{};
  std::uint64_t payload_size = 0;
  std::size_t header_size = 0;
  std::size_t frame_size() const { return header_size + static_cast<std::size_t>(payload_size); }
};

// What the header rules depend on besides the bytes themselves.
struct HeaderContext {
  ParserOptions options;
  bool message_in_progress;
  std::size_t fragments_size;
};

struct HeaderResult {
  enum class Status { need_more, error, complete } status;
  ParseError error{};
  FrameHeader header{};
};

std::uint8_t byte_at(const char* p, std::size_t i) { return static_cast<std::uint8_t>(p[i]); }

// Header bytes needed to know the frame layout: 2 until the second byte is known, then the
// exact header size it announces.
std::size_t header_size_needed(const char* p, std::size_t n) {
  if (n < 2) return 2;
  const std::uint8_t second = byte_at(p, 1);
  const std::uint8_t len7 = second & 0x7F;
  std::size_t size = 2;
  if (len7 == 126) size += 2;
  if (len7 == 127) size += 8;
  if ((second & 0x80) != 0) size += 4;
  return size;
}

// Parses as much of a header as `n` bytes allow and checks every rule those bytes decide, so
// a bad frame is refused as early as possible (even when it trickles in byte by byte) and an
// oversized one before any of its payload is buffered.
HeaderResult parse_header(const char* p, std::size_t n, const HeaderContext& ctx) {
  using Status = HeaderResult::Status;
  auto error = [](ParseError e) { return HeaderResult{Status::error, e, {}}; };
  if (n < 1) return {Status::need_more};

  const std::uint8_t first = byte_at(p, 0);
  FrameHeader h;
  h.fin = (first & 0x80) != 0;
  if ((first & 0x70) != 0) return error(kReservedBits);
  const std::uint8_t raw_opcode = first & 0x0F;
  if (!is_known_opcode(raw_opcode)) return error(kUnknownOpcode);
  h.opcode = static_cast<Opcode>(raw_opcode);
  const bool control = is_control(h.opcode);
  if (control && !h.fin) return error(kFragmentedControl);
  if (h.opcode == Opcode::continuation && !ctx.message_in_progress) {
    return error(kUnexpectedContinuation);
  }
  if (!control && h.opcode != Opcode::continuation && ctx.message_in_progress) {
    return error(kInterleavedMessage);
  }
  if (n < 2) return {Status::need_more};

  const std::uint8_t second = byte_at(p, 1);
  h.masked = (second & 0x80) != 0;
  if (h.masked != ctx.options.expect_masked) return error(h.masked ? kMasked : kUnmasked);
  const std::uint8_t len7 = second & 0x7F;
  if (control && len7 > kMaxControlPayload) return error(kControlTooLong);
  if (h.opcode == Opcode::close && len7 == 1) return error(kOneByteClose);

  h.header_size = header_size_needed(p, n);
  if (n < h.header_size) return {Status::need_more};

  std::size_t pos = 2;
  if (len7 == 126) {
    h.payload_size = (std::uint64_t{byte_at(p, 2)} << 8) | byte_at(p, 3);
    pos += 2;
  } else if (len7 == 127) {
    if ((byte_at(p, 2) & 0x80) != 0) return error(kLengthMsb);
    for (std::size_t i = 0; i < 8; ++i) h.payload_size = (h.payload_size << 8) | byte_at(p, 2 + i);
    pos += 8;
  } else {
    h.payload_size = len7;
  }
  if (h.masked) {
    for (std::size_t i = 0; i < 4; ++i) h.mask[i] = byte_at(p, pos + i);
  }

  // A continuation counts against what the message already holds. Both terms are bounded
  // before adding (payload_size can be up to 2^63), so the sum cannot overflow.
  const std::uint64_t limit = ctx.options.max_message_size;
  if (h.payload_size > limit) return error(kTooBig);
  if (h.opcode == Opcode::continuation && ctx.fragments_size + h.payload_size > limit) {
    return error(kTooBig);
  }
  return {Status::complete, {}, h};
}

// XOR with the 4-byte mask, eight bytes at a time (memcpy keeps it free of alignment and
// aliasing issues; the compiler turns it into plain loads and stores).
void unmask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& mask) {
  std::array<std::uint8_t, 8> mask8{};
  for (std::size_t i = 0; i < 8; ++i) mask8[i] = mask[i % 4];
  std::uint64_t word_mask = 0;
  std::memcpy(&word_mask, mask8.data(), sizeof word_mask);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, data + i, sizeof word);
    word ^= word_mask;
    std::memcpy(data + i, &word, sizeof word);
  }
  for (; i < size; ++i)
    data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^ mask[i % 4]);
}

// Expected length of a UTF-8 sequence from its lead byte (1 for bytes that cannot lead one;
// the validator rejects those).
std::size_t sequence_length(std::uint8_t lead) {
  if (lead >= 0xC0 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF7) return 4;
  return 1;
}

// Length of `text` without a trailing sequence that is cut short but could still be completed
// by the next fragment. A cut sequence that no continuation bytes could make valid (e.g.
// "\xED\xA0", a surrogate) is kept, so validation fails on it right away.
std::size_t completable_prefix(std::string_view text) {
  const std::size_t size = text.size();
  for (std::size_t k = 1; k <= std::min<std::size_t>(3, size); ++k) {
    const auto byte = static_cast<std::uint8_t>(text[size - k]);
    if ((byte & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const std::size_t expected = sequence_length(byte);
    if (expected <= k) return size;  // the last sequence is complete
    // Pad with the lowest and the highest continuation byte: the second byte's allowed range
    // depends on the lead (E0, ED, F0, F4), and one of the two extremes always fits it.
    for (const char fill : {'\x80', '\xBF'}) {
      std::array<char, 4> padded{};
      std::memcpy(padded.data(), text.data() + size - k, k);
      std::fill(padded.begin() + static_cast<std::ptrdiff_t>(k),
                padded.begin() + static_cast<std::ptrdiff_t>(expected), fill);
      if (is_valid_utf8(std::string_view(padded.data(), expected))) return size - k;
    }
    return size;
  }
  return size;
}

void release(std::string& buffer) noexcept { std::string().swap(buffer); }

// Heap bytes a string owns (its small-string buffer is not heap).
std::size_t heap_bytes(const std::string& buffer) noexcept {
  static const std::size_t inline_capacity = std::string().capacity();
  return buffer.capacity() > inline_capacity ? buffer.capacity() : 0;
}

}  // namespace

std::size_t FrameParser::buffered_bytes() const noexcept {
  if (!buffers_) return 0;
  return sizeof(Buffers) + heap_bytes(buffers_->partial) + heap_bytes(buffers_->fragments);
}

std::string& FrameParser::partial() {
  if (!buffers_) buffers_ = std::make_unique<Buffers>();
  return buffers_->partial;
}

std::string& FrameParser::fragments() {
  if (!buffers_) buffers_ = std::make_unique<Buffers>();
  return buffers_->fragments;
}

void FrameParser::release_if_empty() noexcept {
  if (!buffers_) return;
  if (buffers_->partial.empty()) release(buffers_->partial);
  if (buffers_->fragments.empty()) release(buffers_->fragments);
  if (buffers_->partial.empty() && buffers_->fragments.empty()) buffers_.reset();
}

void FrameParser::release_buffers() noexcept { buffers_.reset(); }

FrameParser::FrameParser(ParserOptions options)
    : max_message_size_(
          static_cast<std::uint32_t>(std::min<std::size_t>(options.max_message_size, UINT32_MAX))),
      expect_masked_(options.expect_masked) {}

std::optional<ParseError> FrameParser::error() const {
  if (error_code_ == 0) return std::nullopt;
  return ParseError{error_code_, std::string_view(error_reason_, error_reason_size_)};
}

std::optional<ParseError> FrameParser::fail(ParseError error) {
  // Reasons are short static texts ("unmasked client frame"); a close reason fits 123 bytes.
  CABLE_ASSERT(error.close_code != 0 && error.reason.size() <= UINT16_MAX);
  error_code_ = error.close_code;
  error_reason_ = error.reason.data();
  error_reason_size_ = static_cast<std::uint16_t>(error.reason.size());
  finished_ = true;
  release_buffers();
  fragmented_opcode_ = Opcode::continuation;
  return error;
}

std::optional<ParseError> FrameParser::deliver(bool fin, Opcode opcode, std::span<char> payload,
                                               FrameSink& sink) {
  const std::string_view view(payload.data(), payload.size());
  switch (opcode) {
    case Opcode::text:
    case Opcode::binary:
      if (fin) {
        if (opcode == Opcode::text && !is_valid_utf8(view)) return fail(kBadText);
        sink.on_message(opcode, view);
        return std::nullopt;
      }
      fragmented_opcode_ = opcode;
      fragments().assign(view);
      if (opcode == Opcode::text) {
        const std::string_view text(fragments());
        if (!is_valid_utf8(text.substr(0, completable_prefix(text)))) return fail(kBadText);
      }
      return std::nullopt;

    case Opcode::continuation: {
      CABLE_ASSERT(fragmented_opcode_ != Opcode::continuation);
      // Everything before `checked` was validated when the earlier fragments arrived.
      std::string& joined = fragments();
      const std::size_t checked = completable_prefix(joined);
      joined.append(view);
      if (fragmented_opcode_ == Opcode::text) {
        std::string_view unchecked = std::string_view(joined).substr(checked);
        if (!fin) unchecked = unchecked.substr(0, completable_prefix(unchecked));
        if (!is_valid_utf8(unchecked)) return fail(kBadText);
      }
      if (fin) {
        const Opcode message_opcode = fragmented_opcode_;
        fragmented_opcode_ = Opcode::continuation;
        sink.on_message(message_opcode, joined);
        joined.clear();
        release_if_empty();
      }
      return std::nullopt;
    }

    case Opcode::ping:
      sink.on_ping(view);
      return std::nullopt;

    case Opcode::pong:
      sink.on_pong(view);
      return std::nullopt;

    case Opcode::close: {
      std::optional<std::uint16_t> code;
      std::string_view reason;
      if (!view.empty()) {
        CABLE_ASSERT(view.size() >= 2);  // a 1-byte body is refused with the header
        code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(view[0]) << 8) |
                                          static_cast<std::uint8_t>(view[1]));
        if (!is_valid_close_code(*code)) return fail(kBadCloseCode);
        reason = view.substr(2);
        if (!is_valid_utf8(reason)) return fail(kBadCloseReason);
      }
      sink.on_close(code, reason);
      finished_ = true;
      return std::nullopt;
    }
  }
  CABLE_ASSERT(false);  // parse_header only lets known opcodes through
  return std::nullopt;
}

std::optional<ParseError> FrameParser::feed(std::span<char> bytes, FrameSink& sink) {
  if (finished_) return error();
  char* data = bytes.data();
  std::size_t size = bytes.size();
  std::size_t pos = 0;
  auto context = [this] {
    return HeaderContext{options(), fragmented_opcode_ != Opcode::continuation,
                         buffers_ ? buffers_->fragments.size() : 0};
  };

  // 1. Finish the frame left incomplete by earlier calls, copying only the bytes it still needs.
  if (buffers_ && !buffers_->partial.empty()) {
    std::string& held = buffers_->partial;
    HeaderResult parsed;
    for (;;) {
      parsed = parse_header(held.data(), held.size(), context());
      if (parsed.status == HeaderResult::Status::error) return fail(parsed.error);
      if (parsed.status == HeaderResult::Status::complete) break;
      const std::size_t needed = header_size_needed(held.data(), held.size());
      const std::size_t take = std::min(needed - held.size(), size - pos);
      if (take == 0) return std::nullopt;  // still inside the header; wait for more bytes
      held.append(data + pos, take);
      pos += take;
    }
    const FrameHeader& header = parsed.header;
    const std::size_t frame_size = header.frame_size();
    const std::size_t take = std::min(frame_size - held.size(), size - pos);
    held.reserve(frame_size);
    held.append(data + pos, take);
    pos += take;
    if (held.size() < frame_size) return std::nullopt;

    const std::span<char> payload(held.data() + header.header_size,
                                  static_cast<std::size_t>(header.payload_size));
    if (header.masked) unmask(payload.data(), payload.size(), header.mask);
    if (auto error = deliver(header.fin, header.opcode, payload, sink)) return error;
    // deliver() may have freed the buffers (a close frame, or the end of a fragmented message).
    if (buffers_) buffers_->partial.clear();
    release_if_empty();
    if (finished_) {
      release_buffers();
      return std::nullopt;
    }
  }

  // 2. Frames entirely inside `bytes`: unmask in place and hand out views, no copy.
  while (pos < size) {
    const HeaderResult parsed = parse_header(data + pos, size - pos, context());
    if (parsed.status == HeaderResult::Status::error) return fail(parsed.error);
    if (parsed.status == HeaderResult::Status::need_more) {
      CABLE_ASSERT(size - pos < kMaxHeaderSize);
      partial().assign(data + pos, size - pos);  // fits the small-string buffer
      return std::nullopt;
    }
    const FrameHeader& header = parsed.header;
    const std::size_t frame_size = header.frame_size();
    if (size - pos < frame_size) {
      // Reserve the whole frame once: its size passed the limit check, and the rest of it
      // then arrives without reallocations.
      std::string& held = partial();
      held.reserve(frame_size);
      held.assign(data + pos, size - pos);
      return std::nullopt;
    }
    const std::span<char> payload(data + pos + header.header_size,
                                  static_cast<std::size_t>(header.payload_size));
    if (header.masked) unmask(payload.data(), payload.size(), header.mask);
    if (auto error = deliver(header.fin, header.opcode, payload, sink)) return error;
    pos += frame_size;
    if (finished_) {
      release_buffers();
      return std::nullopt;  // bytes after a close frame are ignored (RFC 6455 5.5.1)
    }
  }
  return std::nullopt;
}

}  // namespace cablecast::ws
