// Server -> client messages must match what Rails (ActiveSupport::JSON.encode) sends byte for
// byte. Every expected string below was printed by Ruby 3.1 + ActiveSupport 6.1.
#include "protocol/encode.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <limits>
#include <string>

namespace cablecast::protocol {
namespace {

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(EncodeWelcome, IsTheBareWelcomeType) { EXPECT_EQ(encode_welcome(), R"({"type":"welcome"})"); }

TEST(EncodePing, WritesSecondsAsPlainDecimal) {
  EXPECT_EQ(encode_ping(1767225600), R"({"type":"ping","message":1767225600})");
  EXPECT_EQ(encode_ping(0), R"({"type":"ping","message":0})");
}

TEST(EncodePing, HandlesTheWholeInt64Range) {
  EXPECT_EQ(encode_ping(std::numeric_limits<std::int64_t>::max()),
            R"({"type":"ping","message":9223372036854775807})");
  EXPECT_EQ(encode_ping(std::numeric_limits<std::int64_t>::min()),
            R"({"type":"ping","message":-9223372036854775808})");
}

TEST(EncodeConfirm, PutsIdentifierFirstThenType) {
  EXPECT_EQ(
      encode_confirm(R"({"channel":"ChatChannel","room":"1"})"),
      R"({"identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","type":"confirm_subscription"})");
}

TEST(EncodeReject, EscapesHtmlCharactersInTheIdentifierLikeRails) {
  EXPECT_EQ(
      encode_reject(R"({"channel":"ChatChannel","room":"<b>&amp;</b>"})"),
      R"({"identifier":"{\"channel\":\"ChatChannel\",\"room\":\"\u003cb\u003e\u0026amp;\u003c/b\u003e\"}","type":"reject_subscription"})");
}

TEST(EncodeDisconnect, WritesReasonAndReconnectFlag) {
  EXPECT_EQ(encode_disconnect("unauthorized", false),
            R"({"type":"disconnect","reason":"unauthorized","reconnect":false})");
  EXPECT_EQ(encode_disconnect("server_restart", true),
            R"({"type":"disconnect","reason":"server_restart","reconnect":true})");
}

TEST(EncodeMessage, InsertsThePayloadVerbatimAfterTheIdentifier) {
  EXPECT_EQ(
      encode_message(R"({"channel":"Ch","name":"Zoë 😀 \\ / \"q\""})", R"({"text":"hi"})"),
      R"({"identifier":"{\"channel\":\"Ch\",\"name\":\"Zoë 😀 \\\\ / \\\"q\\\"\"}","message":{"text":"hi"}})");
}

TEST(EncodeMessage, AcceptsAnyJsonValueAsPayload) {
  EXPECT_EQ(encode_message("x", "[1,2]"), R"({"identifier":"x","message":[1,2]})");
  EXPECT_EQ(encode_message("x", R"("s")"), R"({"identifier":"x","message":"s"})");
  EXPECT_EQ(encode_message("x", "null"), R"({"identifier":"x","message":null})");
  EXPECT_EQ(encode_message("x", "-1.5e3"), R"({"identifier":"x","message":-1.5e3})");
}

TEST(EncodeTypedMessage, PutsTheTypeFirstAsAnyCableDoes) {
  EXPECT_EQ(encode_typed_message("presence", R"({"channel":"A"})", R"({"id":1})"),
            R"({"type":"presence","identifier":"{\"channel\":\"A\"}","message":{"id":1}})");
  EXPECT_EQ(encode_typed_message("a\"<b", "x", "1"),
            R"({"type":"a\"\u003cb","identifier":"x","message":1})");
}

TEST(AppendJsonString, EscapesEveryAsciiByteAsActiveSupportDoes) {
  std::string all_ascii;
  for (int c = 0; c < 0x80; ++c) all_ascii.push_back(static_cast<char>(c));
  // Ruby's output, with DEL (0x7f, kept raw by Ruby) spliced in before the closing quote.
  const std::string expected =
      std::string(
          R"golden("\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f !\"#$%\u0026'()*+,-./0123456789:;\u003c=\u003e?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~)golden") +
      "\x7f\"";
  EXPECT_EQ(json_string(all_ascii), expected);
}

TEST(AppendJsonString, EscapesOnlyTheJavaScriptLineSeparators) {
  // U+2027 and U+202A are the neighbours of U+2028/U+2029 and stay raw UTF-8.
  EXPECT_EQ(json_string("a\u2028b\u2029c\u2027d\u202ae"), "\"a\\u2028b\\u2029c\u2027d\u202ae\"");
}

TEST(AppendJsonString, KeepsOtherNonAsciiAsRawUtf8) {
  const std::string text = "é 😀 \u00a0\ufeff 中文 \U0010FFFF";
  EXPECT_EQ(json_string(text), "\"" + text + "\"");
}

TEST(AppendJsonString, DoesNotEscapeSlash) {
  EXPECT_EQ(json_string("</script>"), R"("\u003c/script\u003e")");
}

TEST(AppendJsonString, AppendsWithoutClearingTheBuffer) {
  std::string out = "prefix:";
  append_json_string(out, "a\"b");
  EXPECT_EQ(out, R"(prefix:"a\"b")");
}

TEST(AppendJsonString, WritesEmptyStringAsTwoQuotes) { EXPECT_EQ(json_string(""), R"("")"); }

TEST(AppendJsonString, ReplacesInvalidUtf8SoTheFrameStaysValidText) {
  // Each maximal invalid subpart becomes one U+FFFD, as a browser's TextDecoder does.
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(json_string("a\xff"
                        "b"),
            "\"a" + fffd + "b\"");
  EXPECT_EQ(json_string("\x80\x80"), "\"" + fffd + fffd + "\"");
  EXPECT_EQ(json_string("\xC0\xAF"), "\"" + fffd + fffd + "\"");             // overlong '/'
  EXPECT_EQ(json_string("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"");  // surrogate
  EXPECT_EQ(json_string("\xE2\x82"
                        "x"),
            "\"" + fffd + "x\"");                              // truncated €
  EXPECT_EQ(json_string("\xF0\x9F\x98"), "\"" + fffd + "\"");  // truncated 😀
  EXPECT_EQ(json_string("\xF4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");
  EXPECT_EQ(json_string("\xE2\x80"), "\"" + fffd + "\"");  // cut-off U+2028 prefix
}

TEST(AppendJsonString, RoundTripsThroughAJsonParser) {
  std::string text = "q\"b\\s/<>&\u2028\u2029\x01\x1f\x7f é😀";
  text.push_back('\0');
  const auto parsed = boost::json::parse(json_string(text));
  ASSERT_TRUE(parsed.is_string());
  EXPECT_EQ(std::string_view(parsed.get_string()), text);
}

TEST(IsValidJson, AcceptsOneValueOfAnyTypeWithSurroundingWhitespace) {
  for (const char* text : {R"({"a":[1,2,{"b":null}]})", "[]", R"("s")", "1", "-0.5e-3", "true",
                           "false", "null", " \t\r\n{} \n"}) {
    EXPECT_TRUE(is_valid_json(text)) << text;
  }
}

TEST(IsValidJson, AcceptsNumbersBeyondSixtyFourBits) {
  // Valid JSON that Ruby and browsers accept, though simdjson alone refuses it.
  EXPECT_TRUE(is_valid_json("123456789012345678901234567890"));
  EXPECT_TRUE(is_valid_json(R"({"n":18446744073709551616,"f":1e400})"));
  EXPECT_FALSE(is_valid_json(R"({"n":18446744073709551616,"f":01})"));
}

TEST(IsValidJson, RejectsTrailingGarbageAndSecondValues) {
  for (const char* text : {"{} x", "{}{}", "1 2", "[1]]", "\"a\" \"b\""}) {
    EXPECT_FALSE(is_valid_json(text)) << text;
  }
}

TEST(IsValidJson, RejectsNonJson) {
  for (const char* text : {"", "   ", "{", "[1,]", "{'a':1}", "NaN", "/*c*/{}", "undefined",
                           "\"\\ud800\"", "\"\x01\""}) {
    EXPECT_FALSE(is_valid_json(text)) << text;
  }
}

TEST(IsValidJson, RejectsInvalidUtf8InsideStrings) { EXPECT_FALSE(is_valid_json("\"\xff\"")); }

TEST(IsValidJson, RejectsNestingBeyondTheDepthCap) {
  EXPECT_TRUE(is_valid_json(std::string(64, '[') + std::string(64, ']')));
  EXPECT_FALSE(is_valid_json(std::string(65, '[') + std::string(65, ']')));
  EXPECT_FALSE(is_valid_json(std::string(100000, '[') + std::string(100000, ']')));
}

TEST(IsValidJson, ChecksPayloadsLargerThanTheRetainedParser) {
  std::string big = "[\"" + std::string(200 * 1024, 'x') + "\"]";
  EXPECT_TRUE(is_valid_json(big));
  big.back() = ',';
  EXPECT_FALSE(is_valid_json(big));
}

}  // namespace
}  // namespace cablecast::protocol
