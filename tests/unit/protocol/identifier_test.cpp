// parse_identifier and parse_action_data: the JSON strings inside a command, decoded into params.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <string>

#include "protocol/command.hpp"

namespace cablecast::protocol {
namespace {

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

Error identifier_error(std::string_view identifier) {
  const auto parsed = parse_identifier(identifier);
  EXPECT_FALSE(parsed.has_value()) << identifier;
  return parsed ? Error{} : static_cast<Error>(parsed.error().value());
}

Error data_error(std::string_view data) {
  const auto parsed = parse_action_data(data);
  EXPECT_FALSE(parsed.has_value()) << data;
  return parsed ? Error{} : static_cast<Error>(parsed.error().value());
}

TEST(ParseIdentifier, ReturnsTheChannelAndEveryKeyAsParams) {
  const auto parsed = parse_identifier(R"({"channel":"ChatChannel","room":"1","n":2,"ok":true})");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->channel, "ChatChannel");
  EXPECT_EQ(parsed->params.size(), 4u);
  EXPECT_EQ(parsed->params.at("channel"), "ChatChannel");
  EXPECT_EQ(parsed->params.at("room"), "1");
  EXPECT_EQ(parsed->params.at("n"), 2);
  EXPECT_EQ(parsed->params.at("ok"), true);
}

TEST(ParseIdentifier, KeepsNestedParamValues) {
  const auto parsed = parse_identifier(R"({"channel":"C","filter":{"tags":["a","b"],"min":1.5}})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(boost::json::serialize(parsed->params.at("filter")),
            R"({"tags":["a","b"],"min":1.5E0})");
}

TEST(ParseIdentifier, KeepsUnicodeKeysAndValues) {
  const auto parsed = parse_identifier(R"({"channel":"C","clé":"\u00e9\ud83d\ude00<&>"})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->params.at("clé"), "é😀<&>");
}

TEST(ParseIdentifier, LetsTheLastDuplicateKeyWin) {
  const auto parsed = parse_identifier(R"({"channel":"First","room":1,"channel":"Second"})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->channel, "Second");
  EXPECT_EQ(parsed->params.at("channel"), "Second");
  EXPECT_EQ(parsed->params.size(), 2u);
}

TEST(ParseIdentifier, AcceptsAnEmptyChannelNameForRoutingToReject) {
  const auto parsed = parse_identifier(R"({"channel":""})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->channel, "");
}

TEST(ParseIdentifier, RefusesTextThatIsNotJson) {
  for (const char* identifier : {"", "ChatChannel", R"({"channel":"C")", R"({"channel":"C",})",
                                 R"({"channel":"C"} x)", R"("\ud800")", "\"\xff\""}) {
    EXPECT_EQ(identifier_error(identifier), Error::identifier_not_json) << identifier;
  }
}

TEST(ParseIdentifier, RefusesJsonThatIsNotAnObject) {
  for (const char* identifier : {R"("ChatChannel")", R"(["ChatChannel"])", "1", "null"}) {
    EXPECT_EQ(identifier_error(identifier), Error::identifier_not_object) << identifier;
  }
}

TEST(ParseIdentifier, RefusesAMissingOrNonStringChannel) {
  for (const char* identifier : {"{}", R"({"room":"1"})", R"({"channel":null})", R"({"channel":1})",
                                 R"({"channel":["C"]})", R"({"Channel":"C"})"}) {
    EXPECT_EQ(identifier_error(identifier), Error::missing_channel) << identifier;
  }
}

TEST(ParseIdentifier, EnforcesTheDepthCap) {
  EXPECT_TRUE(parse_identifier(R"({"channel":"C","x":)" + nested_arrays(max_json_depth - 1) + "}")
                  .has_value());
  EXPECT_EQ(identifier_error(R"({"channel":"C","x":)" + nested_arrays(max_json_depth) + "}"),
            Error::too_deep);
  EXPECT_EQ(identifier_error(nested_arrays(1'000'000)), Error::too_deep);
}

TEST(ParseActionData, ReturnsTheObjectIncludingTheAction) {
  const auto data = parse_action_data(R"({"text":"hi","action":"speak"})");
  ASSERT_TRUE(data.has_value()) << data.error().message();
  EXPECT_EQ(data->at("action"), "speak");
  EXPECT_EQ(data->at("text"), "hi");
}

TEST(ParseActionData, AcceptsAnEmptyObjectAndSurroundingWhitespace) {
  const auto data = parse_action_data(" {} \n");
  ASSERT_TRUE(data.has_value());
  EXPECT_TRUE(data->empty());
}

TEST(ParseActionData, AcceptsNumbersBeyondSixtyFourBits) {
  const auto data = parse_action_data(R"({"action":"x","n":123456789012345678901234567890})");
  ASSERT_TRUE(data.has_value());
  EXPECT_TRUE(data->at("n").is_double());
}

TEST(ParseActionData, LetsTheLastDuplicateKeyWin) {
  const auto data = parse_action_data(R"({"action":"a","action":"b"})");
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(data->at("action"), "b");
}

TEST(ParseActionData, RefusesTextThatIsNotJson) {
  for (const char* data : {"", "speak", "{", R"({"action":"x",})", "{} {}", "//c\n{}"}) {
    EXPECT_EQ(data_error(data), Error::data_not_json) << data;
  }
}

TEST(ParseActionData, RefusesJsonThatIsNotAnObject) {
  for (const char* data : {R"("speak")", "[]", "0", "false", "null"}) {
    EXPECT_EQ(data_error(data), Error::data_not_object) << data;
  }
}

TEST(ParseActionData, EnforcesTheDepthCap) {
  EXPECT_TRUE(parse_action_data(R"({"x":)" + nested_arrays(max_json_depth - 1) + "}").has_value());
  EXPECT_EQ(data_error(R"({"x":)" + nested_arrays(max_json_depth) + "}"), Error::too_deep);
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(100000, '}');
  EXPECT_EQ(data_error(objects), Error::too_deep);
}

}  // namespace
}  // namespace cablecast::protocol
