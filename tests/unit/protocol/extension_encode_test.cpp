// Frames of AnyCable's extended protocol: keys in the order of AnyCable's Reply struct (type,
// identifier, message, presence, reason, reconnect, stream_id, epoch, offset, sid, restored,
// restored_ids), strings escaped as every other frame, JSON payloads inserted as they are.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "protocol/encode.hpp"

namespace cablecast::protocol {
namespace {

constexpr std::string_view pubsub_stream_identifier =
    R"({"channel":"$pubsub","stream_name":"chat/1"})";
constexpr std::string_view pubsub_identifier_literal =
    R"("{\"channel\":\"$pubsub\",\"stream_name\":\"chat/1\"}")";

boost::json::value parsed_frame(const std::string& frame) {
  boost::system::error_code error;
  auto value = boost::json::parse(frame, error);
  EXPECT_FALSE(error) << frame;
  return value;
}

TEST(EncodeWelcome, CarriesTheSessionId) {
  EXPECT_EQ(encode_welcome("s1d"), R"({"type":"welcome","sid":"s1d"})");
  EXPECT_EQ(encode_welcome(R"(a"<b)"), R"({"type":"welcome","sid":"a\"\u003cb"})");
}

TEST(EncodeRestoredWelcome, ListsTheRestoredIdentifiers) {
  EXPECT_EQ(encode_restored_welcome("new", {std::string(pubsub_stream_identifier), "x"}),
            std::string(R"({"type":"welcome","sid":"new","restored":true,"restored_ids":[)") +
                std::string(pubsub_identifier_literal) + R"(,"x"]})");
}

TEST(EncodeRestoredWelcome, WritesAnEmptyListWhenNothingWasSubscribed) {
  EXPECT_EQ(encode_restored_welcome("new", {}),
            R"({"type":"welcome","sid":"new","restored":true,"restored_ids":[]})");
}

TEST(EncodeHistoryReplies, PutTypeFirstThenIdentifier) {
  EXPECT_EQ(encode_confirm_history(pubsub_stream_identifier),
            std::string(R"({"type":"confirm_history","identifier":)") +
                std::string(pubsub_identifier_literal) + "}");
  EXPECT_EQ(encode_reject_history(pubsub_stream_identifier),
            std::string(R"({"type":"reject_history","identifier":)") +
                std::string(pubsub_identifier_literal) + "}");
}

TEST(EncodePong, IsTheBarePongType) { EXPECT_EQ(encode_pong(), R"({"type":"pong"})"); }

TEST(EncodePositionedMessage, AddsStreamEpochAndOffsetAfterTheMessage) {
  EXPECT_EQ(encode_positioned_message(pubsub_stream_identifier, R"({"n":1})", "chat/1", "x123", 32),
            std::string(R"({"identifier":)") + std::string(pubsub_identifier_literal) +
                R"(,"message":{"n":1},"stream_id":"chat/1","epoch":"x123","offset":32})");
}

TEST(EncodePositionedMessage, HandlesTheWholeOffsetRangeAndEscapesNames) {
  const auto frame = encode_positioned_message("id", R"("text")", "a\"<b", "e",
                                               std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(
      frame,
      R"({"identifier":"id","message":"text","stream_id":"a\"\u003cb","epoch":"e","offset":18446744073709551615})");
  const auto value = parsed_frame(frame);
  EXPECT_EQ(value.at("stream_id").as_string(), "a\"<b");
  EXPECT_EQ(value.at("offset").as_uint64(), std::numeric_limits<std::uint64_t>::max());
}

TEST(EncodePresenceEvent, WritesAJoinWithItsInfo) {
  EXPECT_EQ(encode_presence_event(true, "2024", R"({"name":"Vova"})"),
            R"({"type":"join","id":"2024","info":{"name":"Vova"}})");
  EXPECT_EQ(encode_presence_event(true, "u", "null"), R"({"type":"join","id":"u","info":null})");
}

TEST(EncodePresenceEvent, WritesALeaveWithoutInfo) {
  EXPECT_EQ(encode_presence_event(false, "2024", R"({"name":"Vova"})"),
            R"({"type":"leave","id":"2024"})");
}

TEST(EncodePresenceEvent, NestsInAPresenceFrameAsAnycableSendsIt) {
  // The hub delivers presence events as typed messages (meta.broadcast_type "presence").
  EXPECT_EQ(encode_typed_message("presence", pubsub_stream_identifier,
                                 encode_presence_event(false, "2024", "")),
            std::string(R"({"type":"presence","identifier":)") +
                std::string(pubsub_identifier_literal) +
                R"(,"message":{"type":"leave","id":"2024"}})");
}

TEST(EncodePresenceInfo, CountsAndListsTheMembers) {
  const std::vector<std::pair<std::string, std::string>> members = {{"1", R"({"name":"Ann"})"},
                                                                    {"2", "null"}};
  EXPECT_EQ(
      encode_presence_info(pubsub_stream_identifier, members),
      std::string(R"({"type":"presence","identifier":)") + std::string(pubsub_identifier_literal) +
          R"(,"message":{"type":"info","total":2,"records":[{"id":"1","info":{"name":"Ann"}},{"id":"2","info":null}]}})");
}

TEST(EncodePresenceInfo, WritesAnEmptySet) {
  EXPECT_EQ(
      encode_presence_info("id", {}),
      R"({"type":"presence","identifier":"id","message":{"type":"info","total":0,"records":[]}})");
}

TEST(EncodePresenceInfo, EscapesIdsAndStaysValidJson) {
  const auto frame = encode_presence_info("id", {{"\"</script>", R"([1,"x"])"}});
  const auto value = parsed_frame(frame);
  const auto& record = value.at("message").at("records").at(0);
  EXPECT_EQ(record.at("id").as_string(), "\"</script>");
  EXPECT_EQ(frame.find("</"), std::string::npos);
}

TEST(EncodePresenceError, IsAnErrorMessage) {
  EXPECT_EQ(encode_presence_error(pubsub_stream_identifier),
            std::string(R"({"type":"presence","identifier":)") +
                std::string(pubsub_identifier_literal) + R"(,"message":{"type":"error"}})");
}

}  // namespace
}  // namespace cablecast::protocol
