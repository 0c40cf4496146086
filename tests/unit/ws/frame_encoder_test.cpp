#include "ws/frame_encoder.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "ws/utf8.hpp"

namespace cablecast::ws {
namespace {

std::uint8_t byte(const std::string& s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

TEST(FrameEncoder, WritesAShortTextFrameWithA7BitLength) {
  EXPECT_EQ(encode_frame(Opcode::text, "Hello"), "\x81\x05Hello");
}

TEST(FrameEncoder, WritesAnEmptyFrame) {
  EXPECT_EQ(encode_frame(Opcode::pong, ""), std::string("\x8A\x00", 2));
}

TEST(FrameEncoder, Uses7BitLengthUpTo125Bytes) {
  const std::string frame = encode_frame(Opcode::binary, std::string(125, 'x'));
  ASSERT_EQ(frame.size(), 2u + 125u);
  EXPECT_EQ(byte(frame, 0), 0x82);
  EXPECT_EQ(byte(frame, 1), 125);
}

TEST(FrameEncoder, Uses16BitLengthFrom126To65535Bytes) {
  for (std::size_t size : {126u, 65535u}) {
    const std::string frame = encode_frame(Opcode::text, std::string(size, 'x'));
    ASSERT_EQ(frame.size(), 4 + size);
    EXPECT_EQ(byte(frame, 1), 126);
    EXPECT_EQ((std::size_t{byte(frame, 2)} << 8) | byte(frame, 3), size);
    EXPECT_EQ(frame.substr(4), std::string(size, 'x'));
  }
}

TEST(FrameEncoder, Uses64BitLengthFrom65536Bytes) {
  const std::string frame = encode_frame(Opcode::binary, std::string(65536, 'y'));
  ASSERT_EQ(frame.size(), 10u + 65536u);
  EXPECT_EQ(byte(frame, 1), 127);
  EXPECT_EQ(frame.substr(2, 8), std::string("\x00\x00\x00\x00\x00\x01\x00\x00", 8));
}

TEST(FrameEncoder, AppendsAfterExistingBytes) {
  std::string out = "prefix";
  append_frame(out, Opcode::text, "a");
  append_frame(out, Opcode::ping, "b");
  EXPECT_EQ(out,
            "prefix\x81\x01"
            "a\x89\x01"
            "b");
}

TEST(FrameEncoder, MakesASharedTextFrame) {
  const SharedFrame frame = make_text_frame("{\"type\":\"ping\"}");
  ASSERT_TRUE(frame);
  EXPECT_EQ(*frame, encode_frame(Opcode::text, "{\"type\":\"ping\"}"));
}

TEST(FrameEncoder, EncodesACloseWithCodeAndReason) {
  EXPECT_EQ(encode_close(1000, "bye"),
            "\x88\x05\x03\xE8"
            "bye");
  EXPECT_EQ(encode_close(1009), "\x88\x02\x03\xF1");
}

TEST(FrameEncoder, TruncatesALongCloseReasonToFit125Bytes) {
  const std::string frame = encode_close(1008, std::string(300, 'r'));
  ASSERT_EQ(frame.size(), 2u + 125u);
  EXPECT_EQ(byte(frame, 1), 125);
  EXPECT_EQ(frame.substr(4), std::string(123, 'r'));
}

TEST(FrameEncoder, NeverCutsAUtf8SequenceWhenTruncatingACloseReason) {
  // Shift a run of 3-byte characters so the 123-byte cut falls at each position inside one.
  for (std::size_t lead = 0; lead < 3; ++lead) {
    std::string reason(lead, 'a');
    while (reason.size() < 200) reason += "\xE2\x9C\x93";  // U+2713
    const std::string frame = encode_close(1000, reason);
    const std::string kept = frame.substr(4);
    EXPECT_LE(frame.size(), 127u);
    EXPECT_GE(kept.size(), 121u) << "drops at most one partial character";
    EXPECT_TRUE(is_valid_utf8(kept)) << lead;
    EXPECT_EQ(reason.substr(0, kept.size()), kept);
    EXPECT_EQ(byte(frame, 1), kept.size() + 2);
  }
}

TEST(FrameEncoder, MasksClientFramesWithTheGivenKey) {
  // RFC 6455 5.7: masked "Hello".
  EXPECT_EQ(encode_client_frame(Opcode::text, "Hello", {0x37, 0xfa, 0x21, 0x3d}),
            "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
}

TEST(FrameEncoder, ClearsFinOnNonFinalClientFragments) {
  const std::string frame = encode_client_frame(Opcode::text, "a", {1, 2, 3, 4}, false);
  EXPECT_EQ(byte(frame, 0), 0x01);
  const std::string continuation =
      encode_client_frame(Opcode::continuation, "b", {1, 2, 3, 4}, true);
  EXPECT_EQ(byte(continuation, 0), 0x80);
}

TEST(FrameEncoder, SetsTheMaskBitWithExtendedClientLengths) {
  const std::string frame =
      encode_client_frame(Opcode::binary, std::string(70000, 'z'), {9, 9, 9, 9});
  EXPECT_EQ(byte(frame, 1), 0x80 | 127);
  ASSERT_EQ(frame.size(), 2u + 8u + 4u + 70000u);
  EXPECT_EQ(byte(frame, 14), 'z' ^ 9);
}

}  // namespace
}  // namespace cablecast::ws
