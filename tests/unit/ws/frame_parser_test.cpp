#include "ws/frame_parser.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ws/frame_encoder.hpp"

namespace cablecast::ws {
namespace {

constexpr std::array<std::uint8_t, 4> kMask = {0x37, 0xFA, 0x21, 0x3D};

std::string client(Opcode opcode, std::string_view payload, bool fin = true) {
  return encode_client_frame(opcode, payload, kMask, fin);
}

// A masked client frame with full control over the first byte (FIN, RSV, opcode) and the
// length field, for frames the encoder would never produce.
std::string raw_frame(std::uint8_t first_byte, std::string_view payload, bool masked = true) {
  std::string out = encode_client_frame(Opcode::binary, payload, kMask);
  out[0] = static_cast<char>(first_byte);
  if (!masked) {
    std::string unmasked;
    unmasked.push_back(out[0]);
    const std::size_t header = out.size() - payload.size() - 4;
    unmasked.push_back(static_cast<char>(static_cast<std::uint8_t>(out[1]) & 0x7F));
    unmasked.append(out, 2, header - 2);
    unmasked.append(payload);
    return unmasked;
  }
  return out;
}

std::string close_body(std::uint16_t code, std::string_view reason = {}) {
  std::string body;
  body.push_back(static_cast<char>(code >> 8));
  body.push_back(static_cast<char>(code & 0xFF));
  body.append(reason);
  return body;
}

// Records deliveries as short strings ("text:hi", "ping:", "close:1000:bye", "close:-:").
class RecordingSink : public FrameSink {
 public:
  void on_message(Opcode opcode, std::string_view payload) override {
    events.push_back((opcode == Opcode::text ? "text:" : "binary:") + std::string(payload));
  }
  void on_ping(std::string_view payload) override {
    events.push_back("ping:" + std::string(payload));
  }
  void on_pong(std::string_view payload) override {
    events.push_back("pong:" + std::string(payload));
  }
  void on_close(std::optional<std::uint16_t> code, std::string_view reason) override {
    events.push_back("close:" + (code ? std::to_string(*code) : std::string("-")) + ":" +
                     std::string(reason));
  }
  std::vector<std::string> events;
};

struct Result {
  std::vector<std::string> events;
  std::optional<ParseError> error;
  bool finished = false;
  std::size_t buffered = 0;
};

// Feeds `bytes` in pieces ending at `cuts` (ascending), keeping the first error.
Result feed_in_pieces(std::string bytes, const std::vector<std::size_t>& cuts,
                      ParserOptions options = {}) {
  FrameParser parser(options);
  RecordingSink sink;
  Result result;
  std::size_t start = 0;
  auto feed_to = [&](std::size_t end) {
    auto error = parser.feed(std::span<char>(bytes.data() + start, end - start), sink);
    if (error && !result.error) result.error = error;
    start = end;
  };
  for (std::size_t cut : cuts) feed_to(cut);
  feed_to(bytes.size());
  result.events = std::move(sink.events);
  result.finished = parser.finished();
  result.buffered = parser.buffered_bytes();
  return result;
}

Result feed_whole(std::string bytes, ParserOptions options = {}) {
  return feed_in_pieces(std::move(bytes), {}, options);
}

Result feed_byte_by_byte(std::string bytes, ParserOptions options = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < bytes.size(); ++i) cuts.push_back(i);
  return feed_in_pieces(std::move(bytes), cuts, options);
}

// The error must be the same however the bytes arrive.
void expect_error(const std::string& bytes, std::uint16_t code, ParserOptions options = {}) {
  for (const Result& result : {feed_whole(bytes, options), feed_byte_by_byte(bytes, options)}) {
    ASSERT_TRUE(result.error.has_value());
    EXPECT_EQ(result.error->close_code, code) << result.error->reason;
    EXPECT_FALSE(result.error->reason.empty());
    EXPECT_TRUE(result.finished);
    EXPECT_EQ(result.buffered, 0u);
  }
}

TEST(FrameParser, DeliversAMaskedTextFrame) {
  const Result result = feed_whole(client(Opcode::text, "Hello"));
  EXPECT_FALSE(result.error);
  EXPECT_EQ(result.events, std::vector<std::string>{"text:Hello"});
  EXPECT_FALSE(result.finished);
}

TEST(FrameParser, DeliversTheRfcExampleMaskedHello) {
  // RFC 6455 5.7: a single-frame masked text message containing "Hello".
  const Result result = feed_whole("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
  EXPECT_EQ(result.events, std::vector<std::string>{"text:Hello"});
}

TEST(FrameParser, DeliversABinaryFrameWithEveryByteValue) {
  std::string payload;
  for (int i = 0; i < 256; ++i) payload.push_back(static_cast<char>(i));
  const Result result = feed_whole(client(Opcode::binary, payload));
  EXPECT_EQ(result.events, std::vector<std::string>{"binary:" + payload});
}

TEST(FrameParser, DeliversPingAndPongPayloads) {
  const Result result =
      feed_whole(client(Opcode::ping, "are you there") + client(Opcode::pong, "yes"));
  EXPECT_EQ(result.events, (std::vector<std::string>{"ping:are you there", "pong:yes"}));
}

TEST(FrameParser, DeliversPayloadsAtEveryLengthEncodingBoundary) {
  for (std::size_t size : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
    const std::string payload(size, 'x');
    const std::string frame = client(Opcode::binary, payload);
    const Result whole = feed_whole(frame);
    ASSERT_FALSE(whole.error) << size;
    ASSERT_EQ(whole.events.size(), 1u) << size;
    EXPECT_EQ(whole.events[0], "binary:" + payload) << size;
    EXPECT_EQ(whole.buffered, 0u) << size;
    // Split in the middle of the header and in the middle of the payload.
    const Result split = feed_in_pieces(frame, {1, 3, frame.size() / 2});
    EXPECT_EQ(split.events, whole.events) << size;
    EXPECT_EQ(split.buffered, 0u) << size;
  }
}

TEST(FrameParser, AcceptsAControlFrameOfExactly125Bytes) {
  const std::string payload(125, 'p');
  EXPECT_EQ(feed_whole(client(Opcode::ping, payload)).events,
            std::vector<std::string>{"ping:" + payload});
}

TEST(FrameParser, DeliversSeveralFramesFromOneRead) {
  const Result result =
      feed_whole(client(Opcode::text, "a") + client(Opcode::text, "b") + client(Opcode::text, ""));
  EXPECT_EQ(result.events, (std::vector<std::string>{"text:a", "text:b", "text:"}));
}

TEST(FrameParser, JoinsFragmentsIntoOneMessage) {
  const Result result =
      feed_whole(client(Opcode::text, "Hel", false) + client(Opcode::continuation, "", false) +
                 client(Opcode::continuation, "lo"));
  EXPECT_FALSE(result.error);
  EXPECT_EQ(result.events, std::vector<std::string>{"text:Hello"});
  EXPECT_EQ(result.buffered, 0u);
}

TEST(FrameParser, DeliversControlFramesInterleavedBetweenFragmentsImmediately) {
  const std::string head(100, 'a');  // long enough to live on the heap
  const std::string first = client(Opcode::binary, head, false) + client(Opcode::ping, "1");
  FrameParser parser;
  RecordingSink sink;
  std::string bytes = first;
  EXPECT_FALSE(parser.feed(bytes, sink));
  // The ping is out before the message it interrupted is complete.
  EXPECT_EQ(sink.events, std::vector<std::string>{"ping:1"});
  EXPECT_GT(parser.buffered_bytes(), 0u) << "the first fragment is held";
  bytes = client(Opcode::pong, "2") + client(Opcode::continuation, "cd");
  EXPECT_FALSE(parser.feed(bytes, sink));
  EXPECT_EQ(sink.events, (std::vector<std::string>{"ping:1", "pong:2", "binary:" + head + "cd"}));
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

// A stream touching every code path; its deliveries must not depend on how it is split.
std::string mixed_stream() {
  return client(Opcode::text, "caf\xC3\xA9") + client(Opcode::ping, "p") +
         client(Opcode::text, "\xF0\x9F", false) + client(Opcode::ping, "") +
         client(Opcode::continuation, "\x98\x80!", false) +
         client(Opcode::continuation, std::string(130, 'z')) + client(Opcode::pong, "q") +
         client(Opcode::binary, std::string(3, '\0')) +
         client(Opcode::close, close_body(1000, "bye")) + client(Opcode::text, "after close");
}

const std::vector<std::string> kMixedEvents = {
    "text:caf\xC3\xA9",
    "ping:p",
    "ping:",
    "text:\xF0\x9F\x98\x80!" + std::string(130, 'z'),
    "pong:q",
    "binary:" + std::string(3, '\0'),
    "close:1000:bye",
};

TEST(FrameParser, DeliversTheSameEventsForEverySingleSplitPoint) {
  const std::string stream = mixed_stream();
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    const Result result = feed_in_pieces(stream, {cut});
    ASSERT_FALSE(result.error) << "cut at " << cut;
    ASSERT_EQ(result.events, kMixedEvents) << "cut at " << cut;
    EXPECT_TRUE(result.finished);
    EXPECT_EQ(result.buffered, 0u);
  }
}

TEST(FrameParser, DeliversTheSameEventsForEveryPairOfSplitPoints) {
  const std::string stream = client(Opcode::text, "ab", false) + client(Opcode::ping, "x") +
                             client(Opcode::continuation, "cd") +
                             client(Opcode::binary, std::string(126, 'b')) +
                             client(Opcode::close, "");
  const std::vector<std::string> expected = {"ping:x", "text:abcd",
                                             "binary:" + std::string(126, 'b'), "close:-:"};
  for (std::size_t first = 0; first <= stream.size(); ++first) {
    for (std::size_t second = first; second <= stream.size(); ++second) {
      const Result result = feed_in_pieces(stream, {first, second});
      ASSERT_EQ(result.events, expected) << first << "," << second;
    }
  }
}

TEST(FrameParser, DeliversTheSameEventsWhenFedOneByteAtATime) {
  const Result result = feed_byte_by_byte(mixed_stream());
  EXPECT_FALSE(result.error);
  EXPECT_EQ(result.events, kMixedEvents);
}

TEST(FrameParser, HoldsNoHeapWhenIdleAndOnlyWhatAnIncompleteFrameNeeds) {
  FrameParser parser;
  RecordingSink sink;
  EXPECT_EQ(parser.buffered_bytes(), 0u);
  std::string frame = client(Opcode::binary, std::string(1000, 'a'));
  // A partial header fits a string's inline buffer: the parser holds only its pair of
  // buffers, made for it, not a copy sized for the frame.
  EXPECT_FALSE(parser.feed(std::span<char>(frame.data(), 3), sink));
  EXPECT_GT(parser.buffered_bytes(), 0u);
  EXPECT_LE(parser.buffered_bytes(), 2 * sizeof(std::string));
  EXPECT_FALSE(parser.feed(std::span<char>(frame.data() + 3, 500), sink));
  EXPECT_GE(parser.buffered_bytes(), frame.size());
  EXPECT_LT(parser.buffered_bytes(), 2 * frame.size());
  EXPECT_FALSE(parser.feed(std::span<char>(frame.data() + 503, frame.size() - 503), sink));
  EXPECT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(FrameParser, IgnoresAnEmptyFeed) {
  FrameParser parser;
  RecordingSink sink;
  EXPECT_FALSE(parser.feed({}, sink));
  EXPECT_TRUE(sink.events.empty());
  EXPECT_FALSE(parser.finished());
}

TEST(FrameParser, AcceptsALengthInALongerFormThanNeeded) {
  // 5 bytes announced with the 64-bit form: RFC 6455 asks senders for the minimal form, but
  // nothing is ambiguous about it, so like most servers we accept it.
  std::string frame = "\x82\xFF";
  frame.append(std::string(7, '\0') + "\x05");
  frame.append("\0\0\0\0", 4);
  frame.append("hello");
  EXPECT_EQ(feed_whole(frame).events, std::vector<std::string>{"binary:hello"});
}

TEST(FrameParser, ParsesUnmaskedFramesInClientMode) {
  ParserOptions options;
  options.expect_masked = false;
  const Result result =
      feed_byte_by_byte(encode_frame(Opcode::text, "hi") + encode_close(1001, "bye"), options);
  EXPECT_FALSE(result.error);
  EXPECT_EQ(result.events, (std::vector<std::string>{"text:hi", "close:1001:bye"}));
}

TEST(FrameParser, RejectsAnUnmaskedClientFrameWith1002) {
  expect_error(encode_frame(Opcode::text, "hi"), 1002);
}

TEST(FrameParser, RejectsAMaskedFrameInClientModeWith1002) {
  ParserOptions options;
  options.expect_masked = false;
  expect_error(client(Opcode::text, "hi"), 1002, options);
}

TEST(FrameParser, RejectsEachReservedBitWith1002) {
  for (std::uint8_t rsv : {0x40, 0x20, 0x10}) {
    expect_error(raw_frame(static_cast<std::uint8_t>(0x81 | rsv), "hi"), 1002);
  }
}

TEST(FrameParser, RejectsEveryUnknownOpcodeWith1002) {
  for (std::uint8_t opcode : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    expect_error(raw_frame(static_cast<std::uint8_t>(0x80 | opcode), ""), 1002);
  }
}

TEST(FrameParser, RejectsAFragmentedControlFrameWith1002) {
  for (Opcode opcode : {Opcode::ping, Opcode::pong, Opcode::close}) {
    expect_error(client(opcode, "", false), 1002);
  }
}

TEST(FrameParser, RejectsAControlFrameOver125BytesWith1002) {
  for (Opcode opcode : {Opcode::ping, Opcode::pong, Opcode::close}) {
    std::string payload(126, 'x');
    if (opcode == Opcode::close) payload = close_body(1000, std::string(124, 'x'));
    expect_error(client(opcode, payload), 1002);
  }
}

TEST(FrameParser, RejectsAContinuationWithoutAMessageInProgressWith1002) {
  expect_error(client(Opcode::continuation, "x"), 1002);
  expect_error(client(Opcode::text, "done") + client(Opcode::continuation, "x"), 1002);
}

TEST(FrameParser, RejectsANewMessageInsideAFragmentedOneWith1002) {
  expect_error(client(Opcode::text, "a", false) + client(Opcode::text, "b"), 1002);
  expect_error(client(Opcode::binary, "a", false) + client(Opcode::binary, "b", false), 1002);
}

TEST(FrameParser, RejectsA64BitLengthWithTheTopBitSetWith1002) {
  std::string frame = "\x82\xFF\x80";
  frame.append(std::string(7, '\0'));
  frame.append("\0\0\0\0", 4);
  expect_error(frame, 1002);
}

TEST(FrameParser, RejectsAFrameOverTheLimitWith1009FromItsHeaderAlone) {
  ParserOptions options;
  options.max_message_size = 100;
  const std::string frame = client(Opcode::binary, std::string(101, 'x'));
  // Only the header is fed: the error must come before any payload is buffered.
  expect_error(frame.substr(0, 8), 1009, options);
  // A 64-bit length far beyond memory is refused the same way.
  std::string huge = "\x82\xFF";
  huge.append({'\0', '\0', '\x01', '\0', '\0', '\0', '\0', '\0'});  // 2^40 bytes
  huge.append("\0\0\0\0", 4);
  expect_error(huge, 1009, options);
}

TEST(FrameParser, AcceptsAFrameOfExactlyTheLimit) {
  ParserOptions options;
  options.max_message_size = 100;
  const Result result = feed_whole(client(Opcode::binary, std::string(100, 'x')), options);
  EXPECT_FALSE(result.error);
  EXPECT_EQ(result.events.size(), 1u);
}

TEST(FrameParser, RejectsJoinedFragmentsOverTheLimitWith1009) {
  ParserOptions options;
  options.max_message_size = 100;
  const std::string exact = client(Opcode::text, std::string(60, 'a'), false) +
                            client(Opcode::continuation, std::string(40, 'b'));
  EXPECT_FALSE(feed_whole(exact, options).error);
  const std::string over = client(Opcode::text, std::string(60, 'a'), false) +
                           client(Opcode::continuation, std::string(30, 'b'), false) +
                           client(Opcode::continuation, std::string(11, 'c'));
  // Refused at the third header, before its payload.
  const std::size_t third_header_end = over.size() - 11;
  expect_error(over.substr(0, third_header_end), 1009, options);
}

TEST(FrameParser, RejectsInvalidUtf8TextWith1007) {
  expect_error(client(Opcode::text, "bad \xFF byte"), 1007);
  expect_error(client(Opcode::text, "overlong \xC0\xAF"), 1007);
  expect_error(client(Opcode::text, "surrogate \xED\xA0\x80"), 1007);
  expect_error(client(Opcode::text, "truncated \xE2\x82"), 1007);
}

TEST(FrameParser, AcceptsInvalidUtf8InBinaryMessages) {
  EXPECT_FALSE(feed_whole(client(Opcode::binary, "\xFF\xFE")).error);
}

TEST(FrameParser, RejectsFragmentedTextThatIsNotUtf8WhenTheMessageEnds) {
  expect_error(client(Opcode::text, "ok", false) + client(Opcode::continuation, "\xE2\x82"), 1007);
}

TEST(FrameParser, AcceptsACharacterSplitAcrossFragments) {
  // U+1F600 cut after each of its first three bytes.
  const std::string smile = "\xF0\x9F\x98\x80";
  for (std::size_t cut = 1; cut < 4; ++cut) {
    const Result result = feed_whole(client(Opcode::text, smile.substr(0, cut), false) +
                                     client(Opcode::continuation, smile.substr(cut)));
    EXPECT_FALSE(result.error) << cut;
    EXPECT_EQ(result.events, std::vector<std::string>{"text:" + smile}) << cut;
  }
  // One byte per fragment.
  std::string bytes = client(Opcode::text, smile.substr(0, 1), false);
  for (std::size_t i = 1; i < 3; ++i)
    bytes += client(Opcode::continuation, smile.substr(i, 1), false);
  bytes += client(Opcode::continuation, smile.substr(3, 1));
  EXPECT_EQ(feed_whole(bytes).events, std::vector<std::string>{"text:" + smile});
}

TEST(FrameParser, RejectsAnInvalidFragmentBeforeTheMessageEnds) {
  // Fail fast: the bad byte is in the first fragment; the final one never arrives.
  expect_error(client(Opcode::text, "ok \xFF", false), 1007);
  // A cut sequence that no continuation can make valid (a surrogate lead) fails at once too.
  expect_error(client(Opcode::text, "\xED\xA0", false), 1007);
  expect_error(client(Opcode::text, "a", false) + client(Opcode::continuation, "\xF4\x90", false),
               1007);
  expect_error(client(Opcode::text, "\xC0", false), 1007);
}

TEST(FrameParser, DeliversACloseFrameWithoutABody) {
  const Result result = feed_whole(client(Opcode::close, ""));
  EXPECT_EQ(result.events, std::vector<std::string>{"close:-:"});
  EXPECT_TRUE(result.finished);
  EXPECT_FALSE(result.error);
}

TEST(FrameParser, DeliversACloseFrameWithCodeAndReason) {
  const Result result = feed_whole(client(Opcode::close, close_body(1001, "going \xE2\x9C\x93")));
  EXPECT_EQ(result.events, std::vector<std::string>{"close:1001:going \xE2\x9C\x93"});
}

TEST(FrameParser, RejectsACloseFrameWithAOneByteBodyWith1002) {
  expect_error(client(Opcode::close, "\x03"), 1002);
}

TEST(FrameParser, AcceptsEveryCloseCodeAPeerMaySend) {
  for (std::uint16_t code :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
    const Result result = feed_whole(client(Opcode::close, close_body(code)));
    EXPECT_FALSE(result.error) << code;
    EXPECT_EQ(result.events, std::vector<std::string>{"close:" + std::to_string(code) + ":"});
  }
}

TEST(FrameParser, RejectsReservedAndUnassignedCloseCodesWith1002) {
  for (std::uint16_t code :
       {0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    SCOPED_TRACE(code);
    expect_error(client(Opcode::close, close_body(code)), 1002);
  }
}

TEST(FrameParser, RejectsACloseReasonThatIsNotUtf8With1007) {
  expect_error(client(Opcode::close, close_body(1000, "\xCE\xBA\xE1\xBD")), 1007);
}

TEST(FrameParser, IgnoresEverythingAfterAValidClose) {
  FrameParser parser;
  RecordingSink sink;
  std::string bytes =
      client(Opcode::close, close_body(1000)) + client(Opcode::text, "late") + "\xFF\xFF garbage";
  EXPECT_FALSE(parser.feed(bytes, sink));
  EXPECT_TRUE(parser.finished());
  std::string more = client(Opcode::text, "later");
  EXPECT_FALSE(parser.feed(more, sink));
  EXPECT_EQ(sink.events, std::vector<std::string>{"close:1000:"});
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(FrameParser, ReleasesAFragmentedMessageWhenCloseArrivesMidMessage) {
  FrameParser parser;
  RecordingSink sink;
  std::string bytes =
      client(Opcode::text, std::string(500, 'a'), false) + client(Opcode::close, "");
  EXPECT_FALSE(parser.feed(bytes, sink));
  EXPECT_EQ(sink.events, std::vector<std::string>{"close:-:"});
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(FrameParser, ReturnsTheSameErrorOnEveryLaterFeed) {
  FrameParser parser;
  RecordingSink sink;
  std::string bad = raw_frame(0xC1, "x");
  const auto first = parser.feed(bad, sink);
  ASSERT_TRUE(first);
  std::string good = client(Opcode::text, "ok");
  const auto second = parser.feed(good, sink);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->close_code, first->close_code);
  EXPECT_EQ(second->reason, first->reason);
  EXPECT_TRUE(sink.events.empty());
}

TEST(FrameParser, DeliversFramesBeforeTheOneThatFails) {
  const Result result = feed_whole(client(Opcode::text, "first") + raw_frame(0x83, ""));
  EXPECT_EQ(result.events, std::vector<std::string>{"text:first"});
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->close_code, 1002);
}

TEST(FrameParser, RejectsAnUnmaskedFrameInTheMiddleOfAStream) {
  expect_error(client(Opcode::text, "a") + raw_frame(0x81, "b", /*masked=*/false), 1002);
}

}  // namespace
}  // namespace cablecast::ws
