// decode_command: one client frame -> one command, with the same verdicts Rails reaches.
#include "protocol/command.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cablecast::protocol {
namespace {

constexpr std::string_view chat_identifier = R"({"channel":"ChatChannel","room":"1"})";

Error error_of(std::string_view frame) {
  const auto command = decode_command(frame);
  EXPECT_FALSE(command.has_value()) << frame;
  return command ? Error{} : static_cast<Error>(command.error().value());
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(DecodeCommand, DecodesSubscribe) {
  const auto command = decode_command(
      R"({"command":"subscribe","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}"})");
  ASSERT_TRUE(command.has_value()) << command.error().message();
  EXPECT_EQ(command->type, CommandType::subscribe);
  EXPECT_EQ(command->identifier, chat_identifier);
  EXPECT_EQ(command->data, "");
}

TEST(DecodeCommand, DecodesUnsubscribe) {
  const auto command = decode_command(
      R"({"command":"unsubscribe","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}"})");
  ASSERT_TRUE(command.has_value()) << command.error().message();
  EXPECT_EQ(command->type, CommandType::unsubscribe);
  EXPECT_EQ(command->identifier, chat_identifier);
}

TEST(DecodeCommand, DecodesMessageWithItsDataString) {
  const auto command = decode_command(
      R"({"command":"message","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"1\"}","data":"{\"text\":\"hi\",\"action\":\"speak\"}"})");
  ASSERT_TRUE(command.has_value()) << command.error().message();
  EXPECT_EQ(command->type, CommandType::message);
  EXPECT_EQ(command->identifier, chat_identifier);
  EXPECT_EQ(command->data, R"({"text":"hi","action":"speak"})");
}

TEST(DecodeCommand, KeepsIdentifierBytesExactly) {
  // Whitespace and key order inside the identifier are part of the subscription key.
  const auto command = decode_command(
      R"({"command":"subscribe","identifier":"{ \"room\" : 1,\"channel\":\"C\" }"})");
  ASSERT_TRUE(command.has_value());
  EXPECT_EQ(command->identifier, R"({ "room" : 1,"channel":"C" })");
}

TEST(DecodeCommand, UnescapesTheIdentifierStringValue) {
  const auto command = decode_command(
      R"({"command":"subscribe","identifier":"{\"channel\":\"C\",\"n\":\"\u00e9\/\ud83d\ude00\\u0041\t\"}"})");
  ASSERT_TRUE(command.has_value()) << command.error().message();
  EXPECT_EQ(command->identifier, "{\"channel\":\"C\",\"n\":\"é/😀\\u0041\t\"}");
}

TEST(DecodeCommand, KeepsNulBytesInsideTheIdentifier) {
  const auto command = decode_command(R"({"command":"subscribe","identifier":"a\u0000b"})");
  ASSERT_TRUE(command.has_value());
  EXPECT_EQ(command->identifier, std::string("a\0b", 3));
}

TEST(DecodeCommand, IgnoresExtraTopLevelKeysAndWhitespace) {
  const auto command = decode_command(
      " \n{\"x\":[1,{\"y\":null}],\"command\" : \"subscribe\",\"identifier\":\"id\",\"z\":true} "
      "\r\n");
  ASSERT_TRUE(command.has_value());
  EXPECT_EQ(command->identifier, "id");
}

TEST(DecodeCommand, IgnoresDataOfSubscribeEvenWhenNotAString) {
  const auto command =
      decode_command(R"({"command":"subscribe","identifier":"id","data":{"a":1}})");
  ASSERT_TRUE(command.has_value());
  EXPECT_EQ(command->data, "");
}

TEST(DecodeCommand, LetsTheLastDuplicateKeyWinAsRubyDoes) {
  const auto command = decode_command(
      R"({"command":"bogus","identifier":"first","command":"subscribe","identifier":"second"})");
  ASSERT_TRUE(command.has_value());
  EXPECT_EQ(command->type, CommandType::subscribe);
  EXPECT_EQ(command->identifier, "second");
  EXPECT_EQ(error_of(R"({"command":"subscribe","identifier":"id","command":1})"),
            Error::missing_command);
}

TEST(DecodeCommand, AcceptsNumbersBeyondSixtyFourBitsInExtraKeys) {
  const auto command = decode_command(
      R"({"n":123456789012345678901234567890,"f":1e400,"command":"message","identifier":"id","data":"{}"})");
  ASSERT_TRUE(command.has_value()) << command.error().message();
  EXPECT_EQ(command->type, CommandType::message);
  EXPECT_EQ(command->data, "{}");
}

TEST(DecodeCommand, DecodesFramesLargerThanTheRetainedParser) {
  const std::string payload(300 * 1024, 'x');
  const auto command =
      decode_command(R"({"command":"message","identifier":"id","data":")" + payload + "\"}");
  ASSERT_TRUE(command.has_value());
  EXPECT_EQ(command->data, payload);
}

TEST(DecodeCommand, RefusesTextThatIsNotJson) {
  for (const char* frame :
       {"", " ", "{", R"({"command":"subscribe")", R"({"command":"subscribe",})", "{command:1}",
        R"({"command":'subscribe'})", "{} {}", R"({"command":"subscribe","identifier":"id"} x)",
        "/*c*/{}", "NaN", "\xEF\xBB\xBF{}"}) {
    EXPECT_EQ(error_of(frame), Error::malformed_json) << frame;
  }
}

TEST(DecodeCommand, RefusesInvalidUtf8AndLoneSurrogates) {
  EXPECT_EQ(error_of("{\"command\":\"subscribe\",\"identifier\":\"\xff\"}"), Error::malformed_json);
  EXPECT_EQ(error_of(R"({"command":"subscribe","identifier":"\ud800"})"), Error::malformed_json);
  EXPECT_EQ(error_of(R"({"command":"subscribe","identifier":"\udc00\ud800"})"),
            Error::malformed_json);
}

TEST(DecodeCommand, RefusesJsonThatIsNotAnObject) {
  for (const char* frame : {R"("subscribe")", "[]", R"([{"command":"subscribe"}])", "1", "null",
                            "true", "123456789012345678901234567890"}) {
    EXPECT_EQ(error_of(frame), Error::not_an_object) << frame;
  }
}

TEST(DecodeCommand, RefusesAMissingOrNonStringCommand) {
  for (const char* frame :
       {"{}", R"({"identifier":"id"})", R"({"command":null,"identifier":"id"})",
        R"({"command":1,"identifier":"id"})", R"({"command":["subscribe"],"identifier":"id"})"}) {
    EXPECT_EQ(error_of(frame), Error::missing_command) << frame;
  }
}

TEST(DecodeCommand, RefusesUnknownCommandsCaseSensitively) {
  for (const char* frame :
       {R"({"command":"Subscribe","identifier":"id"})", R"({"command":"","identifier":"id"})",
        R"({"command":"Pong"})", R"({"command":"subscribe "})"}) {
    EXPECT_EQ(error_of(frame), Error::unknown_command) << frame;
  }
}

TEST(DecodeCommand, RefusesAMissingEmptyOrNonStringIdentifier) {
  for (const char* frame :
       {R"({"command":"subscribe"})", R"({"command":"unsubscribe","identifier":""})",
        R"({"command":"subscribe","identifier":null})",
        R"({"command":"subscribe","identifier":{"channel":"C"}})",
        R"({"command":"message","identifier":7,"data":"{}"})", R"({"command":"message"})"}) {
    EXPECT_EQ(error_of(frame), Error::missing_identifier) << frame;
  }
}

TEST(DecodeCommand, RefusesAMessageWithoutData) {
  EXPECT_EQ(error_of(R"({"command":"message","identifier":"id"})"), Error::missing_data);
  EXPECT_EQ(error_of(R"({"command":"message","identifier":"id","data":null})"),
            Error::missing_data);
}

TEST(DecodeCommand, RefusesAMessageWhoseDataIsNotAString) {
  for (const char* frame : {R"({"command":"message","identifier":"id","data":{"action":"x"}})",
                            R"({"command":"message","identifier":"id","data":1})",
                            R"({"command":"message","identifier":"id","data":[]})"}) {
    EXPECT_EQ(error_of(frame), Error::data_not_string) << frame;
  }
}

TEST(DecodeCommand, AcceptsNestingUpToTheDepthCap) {
  // The frame object itself is one level, so the extra value may nest max_json_depth - 1 deep.
  const auto frame =
      R"({"command":"subscribe","identifier":"id","x":)" + nested_arrays(max_json_depth - 1) + "}";
  EXPECT_TRUE(decode_command(frame).has_value());
}

TEST(DecodeCommand, RefusesJsonBombsAsTooDeep) {
  const auto frame =
      R"({"command":"subscribe","identifier":"id","x":)" + nested_arrays(max_json_depth) + "}";
  EXPECT_EQ(error_of(frame), Error::too_deep);
  EXPECT_EQ(error_of(nested_arrays(1'000'000)), Error::too_deep);
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(100000, '}');
  EXPECT_EQ(error_of(objects), Error::too_deep);
}

TEST(DecodeCommand, RefusesJsonBombsAlsoWhenABigNumberForcesTheSlowPath) {
  const auto frame = R"({"n":1e400,"command":"subscribe","identifier":"id","x":)" +
                     nested_arrays(max_json_depth) + "}";
  EXPECT_EQ(error_of(frame), Error::too_deep);
  EXPECT_EQ(error_of(R"({"n":1e400,"command":"subscribe",})"), Error::malformed_json);
  EXPECT_EQ(error_of("[1e400]"), Error::not_an_object);
}

TEST(DecodeCommand, ErrorsCarryTheProtocolCategory) {
  const auto command = decode_command("[]");
  ASSERT_FALSE(command.has_value());
  EXPECT_EQ(command.error(), make_error_code(Error::not_an_object));
  EXPECT_STREQ(command.error().category().name(), "cablecast.protocol");
}

TEST(CommandName, ReturnsTheCommandStringForLogLines) {
  EXPECT_EQ(command_name(R"({"command":"pong"})"), "pong");
  EXPECT_EQ(command_name(R"({"command":"a\"b"})"), "a\"b");
  EXPECT_EQ(command_name(R"({"command":"x","command":"y"})"), "y");
}

TEST(CommandName, ReturnsEmptyWhenThereIsNoCommandString) {
  for (const char* frame :
       {"", "not json", "[]", "{}", R"({"command":1})", R"({"command":null})"}) {
    EXPECT_EQ(command_name(frame), "") << frame;
  }
}

}  // namespace
}  // namespace cablecast::protocol
