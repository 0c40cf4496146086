#include "broadcast/publication.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace cablecast::broadcast {
namespace {

Body parsed(std::string_view text) {
  auto body = parse_body(text);
  EXPECT_TRUE(body) << text << ": " << (body ? "" : body.error().message());
  return body ? std::move(*body) : Body{};
}

boost::system::error_code error_of(std::string_view text, const ParseLimits& limits = {}) {
  auto body = parse_body(text, limits);
  EXPECT_FALSE(body) << text << " was accepted";
  return body ? boost::system::error_code{} : body.error();
}

TEST(ParseBody, OnePublicationGivesItsStreamAndItsDataAsTheMessage) {
  Body body = parsed(R"({"stream":"chat_42","data":"{\"text\":\"hi\"}"})");
  ASSERT_EQ(body.publications.size(), 1u);
  EXPECT_FALSE(body.disconnect);
  EXPECT_EQ(body.publications[0].stream, "chat_42");
  EXPECT_EQ(body.publications[0].message, R"({"text":"hi"})");
  EXPECT_FALSE(body.publications[0].meta.affects_delivery());
}

TEST(ParseBody, AnArrayGivesEveryPublicationInItsOrder) {
  Body body = parsed(R"([{"stream":"a","data":"1"},{"stream":"b","data":"\"x\""},
                         {"stream":"a","data":"[2]"}])");
  ASSERT_EQ(body.publications.size(), 3u);
  EXPECT_EQ(body.publications[0].stream, "a");
  EXPECT_EQ(body.publications[0].message, "1");
  EXPECT_EQ(body.publications[1].stream, "b");
  EXPECT_EQ(body.publications[1].message, R"("x")");
  EXPECT_EQ(body.publications[2].message, "[2]");
}

TEST(ParseBody, ReadsEveryMetaField) {
  Body body = parsed(
      R"({"stream":"s","data":"{}","meta":{"exclude_socket":"abc","transient":true,
          "broadcast_type":"presence"}})");
  const Meta& meta = body.publications.at(0).meta;
  EXPECT_EQ(meta.exclude_socket, "abc");
  EXPECT_EQ(meta.broadcast_type, "presence");
  EXPECT_TRUE(meta.transient);
  EXPECT_TRUE(meta.affects_delivery());
}

TEST(ParseBody, TransientTravelsWithTheMessageSoNoNodeStoresIt) {
  Body body = parsed(R"({"stream":"s","data":"{}","meta":{"transient":true}})");
  EXPECT_TRUE(body.publications.at(0).meta.transient);
  EXPECT_TRUE(body.publications.at(0).meta.affects_delivery());
}

TEST(ParseBody, IgnoresUnknownKeysAndTakesNullForAbsentAsAnyCableDoes) {
  Body body = parsed(
      R"({"stream":"s","data":"1","offset":3,"epoch":"x","meta":{"exclude_socket":null,
          "future":[1]}})");
  EXPECT_EQ(body.publications.at(0).message, "1");
  EXPECT_TRUE(body.publications.at(0).meta.exclude_socket.empty());
  parsed(R"({"stream":"s","data":"1","meta":null})");
}

TEST(ParseBody, DataThatIsNotJsonIsDeliveredAsAJsonString) {
  Body body = parsed(R"([{"stream":"s","data":"hello"},{"stream":"s","data":""},
                         {"stream":"s","data":"{\"open\":"},{"stream":"s","data":"a\"b\n"}])");
  ASSERT_EQ(body.publications.size(), 4u);
  EXPECT_EQ(body.publications[0].message, R"("hello")");
  EXPECT_EQ(body.publications[1].message, R"("")");
  EXPECT_EQ(body.publications[2].message, R"("{\"open\":")");
  EXPECT_EQ(body.publications[3].message, R"("a\"b\n")");
  for (const auto& p : body.publications) {
    boost::system::error_code ec;
    boost::json::parse(p.message, ec);
    EXPECT_FALSE(ec) << p.message;
  }
}

TEST(ParseBody, DataNestedDeeperThanFramesMayBeIsAStringNotJson) {
  std::string deep(65, '[');
  deep += std::string(65, ']');
  std::string ok(64, '[');
  ok += std::string(64, ']');
  Body body =
      parsed(R"([{"stream":"s","data":")" + deep + R"("},{"stream":"s","data":")" + ok + R"("}])");
  EXPECT_EQ(body.publications.at(0).message, "\"" + deep + "\"");
  EXPECT_EQ(body.publications.at(1).message, ok);
}

TEST(ParseBody, ReadsTheDisconnectCommand) {
  Body body = parsed(
      R"({"command":"disconnect","payload":{"identifier":"{\"user\":\"x\",\"n\":1}",
          "reconnect":true}})");
  EXPECT_TRUE(body.publications.empty());
  ASSERT_TRUE(body.disconnect);
  EXPECT_EQ(body.disconnect->identifiers, (boost::json::object{{"n", 1}, {"user", "x"}}));
  EXPECT_TRUE(body.disconnect->reconnect);
  Body without_reconnect =
      parsed(R"({"command":"disconnect","payload":{"identifier":"{\"u\":1}"}})");
  EXPECT_FALSE(without_reconnect.disconnect->reconnect) << "Go's zero value";
}

TEST(ParseBody, AStreamMakesABodyAPublicationEvenWithACommand) {
  Body body = parsed(R"({"stream":"s","data":"1","command":"disconnect"})");
  EXPECT_EQ(body.publications.size(), 1u);
  EXPECT_FALSE(body.disconnect);
}

TEST(ParseBody, RefusesWhatIsNotJson) {
  EXPECT_EQ(error_of(""), Error::not_json);
  EXPECT_EQ(error_of("{"), Error::not_json);
  EXPECT_EQ(error_of(R"({"stream":"s","data":"1"} trailing)"), Error::not_json);
  EXPECT_EQ(error_of("\xff"), Error::not_json);
  EXPECT_EQ(error_of(std::string(100, '[') + std::string(100, ']')), Error::not_json);
}

TEST(ParseBody, RefusesJsonThatIsNeitherObjectNorArray) {
  EXPECT_EQ(error_of("1"), Error::not_object_or_array);
  EXPECT_EQ(error_of(R"("stream")"), Error::not_object_or_array);
  EXPECT_EQ(error_of("null"), Error::not_object_or_array);
}

TEST(ParseBody, RefusesMissingOrWrongStreams) {
  EXPECT_EQ(error_of(R"({"data":"1"})"), Error::missing_stream);
  EXPECT_EQ(error_of(R"({"stream":"","data":"1"})"), Error::missing_stream);
  EXPECT_EQ(error_of(R"({"stream":null,"data":"1"})"), Error::missing_stream);
  EXPECT_EQ(error_of(R"({"stream":7,"data":"1"})"), Error::stream_not_string);
  EXPECT_EQ(error_of(R"({})"), Error::missing_stream);
}

TEST(ParseBody, RefusesMissingOrWrongData) {
  EXPECT_EQ(error_of(R"({"stream":"s"})"), Error::missing_data);
  EXPECT_EQ(error_of(R"({"stream":"s","data":null})"), Error::missing_data);
  EXPECT_EQ(error_of(R"({"stream":"s","data":{"text":"hi"}})"), Error::data_not_string);
  EXPECT_EQ(error_of(R"({"stream":"s","data":5})"), Error::data_not_string);
}

TEST(ParseBody, RefusesMetaOfTheWrongTypes) {
  EXPECT_EQ(error_of(R"({"stream":"s","data":"1","meta":"x"})"), Error::meta_not_object);
  EXPECT_EQ(error_of(R"({"stream":"s","data":"1","meta":{"exclude_socket":1}})"),
            Error::exclude_socket_not_string);
  EXPECT_EQ(error_of(R"({"stream":"s","data":"1","meta":{"broadcast_type":[]}})"),
            Error::broadcast_type_not_string);
  EXPECT_EQ(error_of(R"({"stream":"s","data":"1","meta":{"transient":"yes"}})"),
            Error::transient_not_boolean);
}

TEST(ParseBody, RefusesAnEmptyArrayAndOneOverTheLimit) {
  EXPECT_EQ(error_of("[]"), Error::empty_array);
  std::string three = R"([{"stream":"s","data":"1"},{"stream":"s","data":"2"},)"
                      R"({"stream":"s","data":"3"}])";
  EXPECT_EQ(error_of(three, ParseLimits{2}), Error::too_many_items);
  EXPECT_TRUE(parse_body(three, ParseLimits{3}));
}

TEST(ParseBody, RefusesAnArrayWithOneBadItem) {
  EXPECT_EQ(error_of(R"([{"stream":"s","data":"1"},2])"), Error::item_not_object);
  EXPECT_EQ(error_of(R"([{"stream":"s","data":"1"},{"stream":"s"}])"), Error::missing_data);
  EXPECT_EQ(error_of(R"([{"command":"disconnect","payload":{"identifier":"{\"a\":1}"}}])"),
            Error::missing_stream)
      << "commands come alone, never in an array";
}

TEST(ParseBody, RefusesBadCommands) {
  EXPECT_EQ(error_of(R"({"command":"restart"})"), Error::unknown_command);
  EXPECT_EQ(error_of(R"({"command":1})"), Error::command_not_string);
  EXPECT_EQ(error_of(R"({"command":"disconnect"})"), Error::payload_not_object);
  EXPECT_EQ(error_of(R"({"command":"disconnect","payload":"x"})"), Error::payload_not_object);
  EXPECT_EQ(error_of(R"({"command":"disconnect","payload":{}})"), Error::identifier_not_string);
  EXPECT_EQ(error_of(R"({"command":"disconnect","payload":{"identifier":{"a":1}}})"),
            Error::identifier_not_string);
  EXPECT_EQ(error_of(R"({"command":"disconnect","payload":{"identifier":"[1]"}})"),
            Error::identifier_not_object);
  EXPECT_EQ(error_of(R"({"command":"disconnect","payload":{"identifier":"nope"}})"),
            Error::identifier_not_object);
  EXPECT_EQ(error_of(R"({"command":"disconnect","payload":{"identifier":"{}"}})"),
            Error::identifier_empty);
  EXPECT_EQ(error_of(R"({"command":"disconnect","payload":{"identifier":"{\"a\":null}"}})"),
            Error::identifier_empty);
  EXPECT_EQ(
      error_of(R"({"command":"disconnect","payload":{"identifier":"{\"a\":1}","reconnect":1}})"),
      Error::reconnect_not_boolean);
}

TEST(ParseBody, EveryErrorHasItsOwnMessage) {
  std::string previous;
  for (int e = static_cast<int>(Error::not_json);
       e <= static_cast<int>(Error::reconnect_not_boolean); ++e) {
    std::string text = make_error_code(static_cast<Error>(e)).message();
    EXPECT_EQ(text.find("unknown"), std::string::npos) << e;
    EXPECT_NE(text, previous);
    previous = text;
  }
}

}  // namespace
}  // namespace cablecast::broadcast
