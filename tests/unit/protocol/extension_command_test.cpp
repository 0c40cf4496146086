// decode_command for AnyCable's extension commands (history, join, leave, presence, whisper,
// pong, ping). The frames marked "from @anycable/core" are what @anycable/core 1.1.7's
// ActionCableExtendedProtocol sends, captured by driving its code paths in Node.
#include <gtest/gtest.h>

#include <string>

#include "protocol/command.hpp"

namespace cablecast::protocol {
namespace {

constexpr std::string_view core_identifier = R"({"channel":"$pubsub","stream_name":"chat/1"})";

Command decoded(std::string_view frame) {
  auto command = decode_command(frame);
  EXPECT_TRUE(command.has_value()) << frame << ": " << (command ? "" : command.error().message());
  return command ? std::move(*command) : Command{};
}

Error extension_error_of(std::string_view frame) {
  const auto command = decode_command(frame);
  EXPECT_FALSE(command.has_value()) << frame;
  return command ? Error{} : static_cast<Error>(command.error().value());
}

// A command frame for the chat/1 identifier with `rest` appended after it.
std::string frame(std::string_view name, std::string_view rest = "") {
  return std::string(R"({"command":")") + std::string(name) +
         R"(","identifier":"{\"channel\":\"$pubsub\",\"stream_name\":\"chat/1\"}")" +
         std::string(rest) + "}";
}

// --- history ---------------------------------------------------------------------------------

TEST(DecodeHistory, DecodesAHistoryRequestFromAnycableCore) {
  const auto command = decoded(
      R"({"identifier":"{\"channel\":\"$pubsub\",\"stream_name\":\"chat/1\"}","command":"history","history":{"since":1681828329,"streams":{"chat/1":{"epoch":"x123","offset":32}}}})");
  EXPECT_EQ(command.type, CommandType::history);
  EXPECT_EQ(command.identifier, core_identifier);
  ASSERT_TRUE(command.history.has_value());
  EXPECT_EQ(command.history->since, 1681828329);
  ASSERT_EQ(command.history->streams.size(), 1u);
  EXPECT_EQ(command.history->streams[0].first, "chat/1");
  EXPECT_EQ(command.history->streams[0].second.epoch, "x123");
  EXPECT_EQ(command.history->streams[0].second.offset, 32u);
  EXPECT_FALSE(command.presence.has_value());
}

TEST(DecodeHistory, TakesSinceFalseFromAnycableCoreAsNotAsked) {
  // historyTimestamp: false in @anycable/core: positions only.
  const auto command = decoded(
      R"({"identifier":"{\"channel\":\"$pubsub\",\"stream_name\":\"chat/1\"}","command":"history","history":{"since":false,"streams":{"chat/1":{"epoch":"x123","offset":7}}}})");
  ASSERT_TRUE(command.history.has_value());
  EXPECT_EQ(command.history->since, 0);
  ASSERT_EQ(command.history->streams.size(), 1u);
  EXPECT_EQ(command.history->streams[0].second.offset, 7u);
}

TEST(DecodeHistory, AcceptsSinceAloneAndFloorsFractionalSeconds) {
  auto command = decoded(frame("history", R"(,"history":{"since":1681828329.9})"));
  ASSERT_TRUE(command.history.has_value());
  EXPECT_EQ(command.history->since, 1681828329);
  EXPECT_TRUE(command.history->streams.empty());
  command = decoded(frame("history", R"(,"history":{"since":5,"streams":null})"));
  EXPECT_EQ(command.history->since, 5);
}

TEST(DecodeHistory, KeepsEveryStreamInTheClientsOrder) {
  const auto command = decoded(frame(
      "history",
      R"(,"history":{"streams":{"b":{"offset":1,"epoch":"e1"},"a":{"epoch":"e2","offset":18446744073709551615}}})"));
  ASSERT_TRUE(command.history.has_value());
  EXPECT_EQ(command.history->since, 0);
  ASSERT_EQ(command.history->streams.size(), 2u);
  EXPECT_EQ(command.history->streams[0].first, "b");
  EXPECT_EQ(command.history->streams[0].second.epoch, "e1");
  EXPECT_EQ(command.history->streams[1].first, "a");
  EXPECT_EQ(command.history->streams[1].second.offset, 18446744073709551615u);
}

TEST(DecodeHistory, DecodesTheSameRequestOnTheSlowPathForHugeNumbers) {
  // An out-of-range number elsewhere sends the frame through Boost.JSON instead of simdjson.
  const auto command = decoded(frame(
      "history", R"(,"x":1e400,"history":{"since":10,"streams":{"s":{"epoch":"e","offset":3}}})"));
  ASSERT_TRUE(command.history.has_value());
  EXPECT_EQ(command.history->since, 10);
  ASSERT_EQ(command.history->streams.size(), 1u);
  EXPECT_EQ(command.history->streams[0].second.offset, 3u);
}

TEST(DecodeHistory, RefusesAHistoryCommandWithoutItsObject) {
  EXPECT_EQ(extension_error_of(frame("history")), Error::missing_history);
  EXPECT_EQ(extension_error_of(frame("history", R"(,"history":null)")), Error::missing_history);
}

TEST(DecodeHistory, RefusesARequestThatAsksForNothing) {
  for (const char* rest : {R"(,"history":{})", R"(,"history":{"since":0,"streams":{}})",
                           R"(,"history":{"since":false})", R"(,"history":{"since":0.5})"}) {
    EXPECT_EQ(extension_error_of(frame("history", rest)), Error::bad_history) << rest;
  }
}

TEST(DecodeHistory, RefusesMalformedHistoryObjects) {
  for (const char* rest : {
           R"(,"history":"since")",
           R"(,"history":[1])",
           R"(,"history":{"since":"1681828329"})",
           R"(,"history":{"since":true})",
           R"(,"history":{"since":-1})",
           R"(,"history":{"since":1e300})",
           R"(,"history":{"since":18446744073709551615})",
           R"(,"history":{"streams":[]})",
           R"(,"history":{"streams":{"s":1}})",
           R"(,"history":{"streams":{"s":{"offset":1}}})",
           R"(,"history":{"streams":{"s":{"epoch":"","offset":1}}})",
           R"(,"history":{"streams":{"s":{"epoch":7,"offset":1}}})",
           R"(,"history":{"streams":{"s":{"epoch":"e"}}})",
           R"(,"history":{"streams":{"s":{"epoch":"e","offset":-1}}})",
           R"(,"history":{"streams":{"s":{"epoch":"e","offset":1.5}}})",
           R"(,"history":{"streams":{"s":{"epoch":"e","offset":"1"}}})",
       }) {
    EXPECT_EQ(extension_error_of(frame("history", rest)), Error::bad_history) << rest;
  }
}

TEST(DecodeHistory, RefusesRequestsBeyondTheLimits) {
  std::string streams;
  for (std::size_t i = 0; i <= max_history_streams; ++i) {
    if (i != 0) streams += ',';
    streams += R"("s)" + std::to_string(i) + R"(":{"epoch":"e","offset":1})";
  }
  EXPECT_EQ(extension_error_of(frame("history", R"(,"history":{"streams":{)" + streams + "}}")),
            Error::over_limit);
  const std::string long_name(max_stream_name_bytes + 1, 'n');
  EXPECT_EQ(extension_error_of(frame("history", R"(,"history":{"streams":{")" + long_name +
                                                    R"(":{"epoch":"e","offset":1}}})")),
            Error::over_limit);
  const std::string long_epoch(max_epoch_bytes + 1, 'e');
  EXPECT_EQ(extension_error_of(frame("history", R"(,"history":{"streams":{"s":{"epoch":")" +
                                                    long_epoch + R"(","offset":1}}})")),
            Error::over_limit);
}

TEST(DecodeHistory, AcceptsRequestsAtTheLimits) {
  std::string streams;
  for (std::size_t i = 0; i < max_history_streams; ++i) {
    if (i != 0) streams += ',';
    streams += R"("s)" + std::to_string(i) + R"(":{"epoch":"e","offset":1})";
  }
  const auto command = decoded(frame("history", R"(,"history":{"streams":{)" + streams + "}}"));
  ASSERT_TRUE(command.history.has_value());
  EXPECT_EQ(command.history->streams.size(), max_history_streams);
}

TEST(DecodeHistory, RefusesAHistoryCommandWithoutIdentifier) {
  EXPECT_EQ(extension_error_of(R"({"command":"history","history":{"since":1}})"),
            Error::missing_identifier);
}

// --- subscribe with history / presence --------------------------------------------------------

TEST(DecodeSubscribe, CarriesTheHistoryAnycableCoreAsksForWhileSubscribing) {
  const auto command = decoded(
      R"({"command":"subscribe","identifier":"{\"channel\":\"$pubsub\",\"stream_name\":\"chat/1\"}","history":{"since":1681828329,"streams":{}}})");
  EXPECT_EQ(command.type, CommandType::subscribe);
  EXPECT_EQ(command.identifier, core_identifier);
  ASSERT_TRUE(command.history.has_value());
  EXPECT_EQ(command.history->since, 1681828329);
  EXPECT_TRUE(command.history->streams.empty());
  EXPECT_FALSE(command.presence.has_value());
}

TEST(DecodeSubscribe, HasNoHistoryWhenItAsksForNothingOrNone) {
  for (const char* rest : {"", R"(,"history":null)", R"(,"history":{})",
                           R"(,"history":{"since":false,"streams":{}})"}) {
    const auto command = decoded(frame("subscribe", rest));
    EXPECT_EQ(command.type, CommandType::subscribe);
    EXPECT_FALSE(command.history.has_value()) << rest;
    EXPECT_FALSE(command.presence.has_value()) << rest;
  }
}

TEST(DecodeSubscribe, RefusesAMalformedHistoryOrPresenceAsAnycableDoes) {
  // AnyCable decodes the whole frame at once: a bad history fails the subscribe too.
  EXPECT_EQ(extension_error_of(frame("subscribe", R"(,"history":{"since":"x"})")),
            Error::bad_history);
  EXPECT_EQ(extension_error_of(frame("subscribe", R"(,"history":1)")), Error::bad_history);
  EXPECT_EQ(extension_error_of(frame("subscribe", R"(,"presence":{"info":1})")),
            Error::bad_presence);
}

TEST(DecodeSubscribe, CarriesThePresenceToJoinWith) {
  const auto command = decoded(frame("subscribe", R"(,"presence":{"id":"u1","info":{"n":1}})"));
  ASSERT_TRUE(command.presence.has_value());
  EXPECT_EQ(command.presence->id, "u1");
  EXPECT_EQ(command.presence->info, R"({"n":1})");
}

// --- join / leave -----------------------------------------------------------------------------

TEST(DecodeJoin, DecodesAJoinFromAnycableCore) {
  const auto command = decoded(
      R"({"command":"join","identifier":"{\"channel\":\"$pubsub\",\"stream_name\":\"chat/1\"}","presence":{"id":"42","info":{"name":"Vova"}}})");
  EXPECT_EQ(command.type, CommandType::join);
  EXPECT_EQ(command.identifier, core_identifier);
  ASSERT_TRUE(command.presence.has_value());
  EXPECT_EQ(command.presence->id, "42");
  EXPECT_EQ(command.presence->info, R"({"name":"Vova"})");
  EXPECT_FALSE(command.history.has_value());
}

TEST(DecodeJoin, GivesInfoNullWhenAnycableCoreSendsNone) {
  const auto command = decoded(
      R"({"command":"join","identifier":"{\"channel\":\"$pubsub\",\"stream_name\":\"chat/1\"}","presence":{"id":"u1"}})");
  ASSERT_TRUE(command.presence.has_value());
  EXPECT_EQ(command.presence->id, "u1");
  EXPECT_EQ(command.presence->info, "null");
}

TEST(DecodeJoin, TurnsNumericIdsIntoTheirDecimalText) {
  const std::pair<const char*, const char*> cases[] = {
      {"42", "42"},
      {"-7", "-7"},
      {"42.0", "42"},
      {"1.5", "1.5"},
      {"18446744073709551615", "18446744073709551615"},
  };
  for (const auto& [json, text] : cases) {
    const auto command = decoded(frame("join", std::string(R"(,"presence":{"id":)") + json + "}"));
    ASSERT_TRUE(command.presence.has_value()) << json;
    EXPECT_EQ(command.presence->id, text) << json;
  }
}

TEST(DecodeJoin, KeepsAnyJsonInfoAsJsonText) {
  const std::pair<const char*, const char*> cases[] = {
      {R"("Vova")", R"("Vova")"},
      {"[1,2]", "[1,2]"},
      {"null", "null"},
      {"true", "true"},
      {R"({ "a" : [ {"b":"\u00e9"} ] })", R"({"a":[{"b":"é"}]})"},
  };
  for (const auto& [json, text] : cases) {
    const auto command =
        decoded(frame("join", std::string(R"(,"presence":{"id":"u","info":)") + json + "}"));
    ASSERT_TRUE(command.presence.has_value()) << json;
    EXPECT_EQ(command.presence->info, text) << json;
  }
}

TEST(DecodeJoin, RefusesAJoinWithoutPresence) {
  EXPECT_EQ(extension_error_of(frame("join")), Error::missing_presence);
  EXPECT_EQ(extension_error_of(frame("join", R"(,"presence":null)")), Error::missing_presence);
}

TEST(DecodeJoin, RefusesAPresenceWithoutAUsableId) {
  for (const char* rest :
       {R"(,"presence":"u1")", R"(,"presence":[])", R"(,"presence":{})",
        R"(,"presence":{"info":{}})", R"(,"presence":{"id":null})", R"(,"presence":{"id":true})",
        R"(,"presence":{"id":{"a":1}})", R"(,"presence":{"id":""})"}) {
    EXPECT_EQ(extension_error_of(frame("join", rest)), Error::bad_presence) << rest;
  }
}

TEST(DecodeJoin, RefusesIdsAndInfoBeyondTheLimits) {
  const std::string id_at_limit(max_presence_id_bytes, 'i');
  EXPECT_EQ(decoded(frame("join", R"(,"presence":{"id":")" + id_at_limit + R"("})")).presence->id,
            id_at_limit);
  EXPECT_EQ(extension_error_of(frame("join", R"(,"presence":{"id":")" + id_at_limit + R"(i"})")),
            Error::over_limit);
  const std::string big_info(max_presence_info_bytes, 'x');
  EXPECT_EQ(
      extension_error_of(frame("join", R"(,"presence":{"id":"u","info":")" + big_info + R"("})")),
      Error::over_limit);
}

TEST(DecodeLeave, DecodesALeaveFromAnycableCoreWithoutPresence) {
  const auto command = decoded(
      R"({"command":"leave","identifier":"{\"channel\":\"$pubsub\",\"stream_name\":\"chat/1\"}"})");
  EXPECT_EQ(command.type, CommandType::leave);
  EXPECT_EQ(command.identifier, core_identifier);
  EXPECT_FALSE(command.presence.has_value());
}

TEST(DecodeLeave, CarriesTheMemberWhenNamed) {
  const auto command = decoded(frame("leave", R"(,"presence":{"id":"2024"})"));
  ASSERT_TRUE(command.presence.has_value());
  EXPECT_EQ(command.presence->id, "2024");
  EXPECT_EQ(extension_error_of(frame("leave", R"(,"presence":{"id":false})")), Error::bad_presence);
  EXPECT_EQ(extension_error_of(R"({"command":"leave"})"), Error::missing_identifier);
}

// --- presence ---------------------------------------------------------------------------------

TEST(DecodePresence, DecodesAnInfoRequestFromAnycableCore) {
  const auto command = decoded(
      R"({"command":"presence","identifier":"{\"channel\":\"$pubsub\",\"stream_name\":\"chat/1\"}","data":{}})");
  EXPECT_EQ(command.type, CommandType::presence);
  EXPECT_EQ(command.identifier, core_identifier);
  EXPECT_EQ(command.data, "{}");
}

TEST(DecodePresence, KeepsTheOptionsObjectAsJsonText) {
  EXPECT_EQ(decoded(frame("presence", R"(,"data":{"return_records":true})")).data,
            R"({"return_records":true})");
  EXPECT_EQ(decoded(frame("presence")).data, "");
  EXPECT_EQ(decoded(frame("presence", R"(,"data":null)")).data, "");
}

TEST(DecodePresence, RefusesDataThatIsNotAnObject) {
  for (const char* rest : {R"(,"data":"{}")", R"(,"data":[])", R"(,"data":1)"}) {
    EXPECT_EQ(extension_error_of(frame("presence", rest)), Error::data_not_object) << rest;
  }
}

// --- whisper ----------------------------------------------------------------------------------

TEST(DecodeWhisper, DecodesAnObjectWhisperFromAnycableCore) {
  const auto command = decoded(
      R"({"command":"whisper","identifier":"{\"channel\":\"$pubsub\",\"stream_name\":\"chat/1\"}","data":{"event":"typing"}})");
  EXPECT_EQ(command.type, CommandType::whisper);
  EXPECT_EQ(command.identifier, core_identifier);
  EXPECT_EQ(command.data, R"({"event":"typing"})");
}

TEST(DecodeWhisper, KeepsAStringWhisperAsAJsonString) {
  const auto command = decoded(
      R"({"command":"whisper","identifier":"{\"channel\":\"$pubsub\",\"stream_name\":\"chat/1\"}","data":"typing"})");
  EXPECT_EQ(command.data, R"("typing")");
  // The string is re-encoded, so it is always valid JSON text to deliver.
  EXPECT_EQ(decoded(frame("whisper", R"(,"data":"a\"b\n<")")).data, R"("a\"b\n\u003c")");
}

TEST(DecodeWhisper, KeepsOtherJsonValuesAsJsonText) {
  EXPECT_EQ(decoded(frame("whisper", R"(,"data":[1,{"a":false}])")).data, R"([1,{"a":false}])");
  EXPECT_EQ(decoded(frame("whisper", R"(,"data":12)")).data, "12");
}

TEST(DecodeWhisper, RefusesAWhisperWithoutData) {
  EXPECT_EQ(extension_error_of(frame("whisper")), Error::missing_data);
  EXPECT_EQ(extension_error_of(frame("whisper", R"(,"data":null)")), Error::missing_data);
  EXPECT_EQ(extension_error_of(R"({"command":"whisper","data":{}})"), Error::missing_identifier);
}

// --- pong / ping ------------------------------------------------------------------------------

TEST(DecodePong, DecodesThePongAnycableCoreSends) {
  const auto command = decoded(R"({"command":"pong"})");
  EXPECT_EQ(command.type, CommandType::pong);
  EXPECT_EQ(command.identifier, "");
  EXPECT_FALSE(command.history.has_value());
  EXPECT_FALSE(command.presence.has_value());
}

TEST(DecodePing, DecodesAPingWithOrWithoutIdentifier) {
  EXPECT_EQ(decoded(R"({"command":"ping"})").type, CommandType::ping);
  EXPECT_EQ(decoded(R"({"command":"ping","identifier":"x"})").identifier, "x");
  EXPECT_EQ(decoded(R"({"command":"ping","identifier":7})").identifier, "");
}

// --- what stays as it was ---------------------------------------------------------------------

TEST(DecodeCommand, IgnoresHistoryAndPresenceOnOtherCommands) {
  const auto message = decoded(frame("message", R"(,"data":"{}","history":1,"presence":"x")"));
  EXPECT_EQ(message.type, CommandType::message);
  EXPECT_FALSE(message.history.has_value());
  EXPECT_FALSE(message.presence.has_value());
  const auto unsubscribe = decoded(frame("unsubscribe", R"(,"history":{"since":1})"));
  EXPECT_FALSE(unsubscribe.history.has_value());
}

TEST(DecodeCommand, StillNamesCommandsOutsideBothProtocolsUnknown) {
  for (const char* name : {"Pong", "typing", "histories", "presence "}) {
    EXPECT_EQ(extension_error_of(frame(name)), Error::unknown_command) << name;
  }
}

TEST(DecodeCommand, RefusesJsonBombsInsideExtensionObjects) {
  const std::string bomb = std::string(max_json_depth, '[') + std::string(max_json_depth, ']');
  EXPECT_EQ(extension_error_of(frame("join", R"(,"presence":{"id":"u","info":)" + bomb + "}")),
            Error::too_deep);
  EXPECT_EQ(extension_error_of(frame("whisper", R"(,"data":)" + bomb)), Error::too_deep);
}

}  // namespace
}  // namespace cablecast::protocol
