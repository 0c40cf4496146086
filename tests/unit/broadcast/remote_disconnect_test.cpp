#include "broadcast/remote_disconnect.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace cablecast::broadcast {
namespace {

boost::json::object object(std::string_view json) { return boost::json::parse(json).as_object(); }

TEST(ConnectionIdentifier, IsRailsSortedValuesJoinedWithColons) {
  EXPECT_EQ(connection_identifier(object(R"({"user":"alice"})")), "alice");
  // Rails sorts the values, not the keys.
  EXPECT_EQ(connection_identifier(object(R"({"a":"zed","b":"amy"})")), "amy:zed");
  EXPECT_EQ(connection_identifier(object(R"({"current_user":"Z2lkOi8vYXBwL1VzZXIvMQ","n":42})")),
            "42:Z2lkOi8vYXBwL1VzZXIvMQ");
}

TEST(ConnectionIdentifier, DropsTheValuesRubysFilterMapDrops) {
  EXPECT_EQ(connection_identifier(object(R"({"a":null,"b":false,"c":true,"d":"x"})")), "true:x");
  EXPECT_EQ(connection_identifier(object(R"({"a":null})")), "");
  EXPECT_EQ(connection_identifier({}), "");
}

TEST(InternalStream, IsActionCablesInternalBroadcastingOrNothing) {
  EXPECT_EQ(internal_stream(object(R"({"user":"alice"})")), "action_cable/alice");
  EXPECT_EQ(internal_stream({}), "");
}

TEST(InternalMessage, ReadsRailsDisconnects) {
  auto modern = parse_internal_message(R"({"type":"disconnect","reconnect":false})");
  ASSERT_TRUE(modern);
  EXPECT_FALSE(modern->reconnect);
  EXPECT_FALSE(modern->identifiers);
  auto old = parse_internal_message(R"({"type":"disconnect"})");
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->reconnect) << "Rails 7.0 sent no reconnect: it meant true";
}

TEST(InternalMessage, IgnoresAnythingElse) {
  EXPECT_FALSE(parse_internal_message(R"({"type":"other"})"));
  EXPECT_FALSE(parse_internal_message(R"({"reconnect":true})"));
  EXPECT_FALSE(parse_internal_message(R"("disconnect")"));
  EXPECT_FALSE(parse_internal_message("not json"));
}

TEST(InternalMessage, CarriesTheCommandsOwnTextSoNumbersCompareEqualOnEveryNode) {
  // Past 64 bits a number is parsed as a double, whose serialization need not parse back equal.
  const std::string text = R"({"n":)" + std::string(170, '8') + "}";
  RemoteDisconnect command{object(text), false, text};
  auto message = parse_internal_message(encode_internal_disconnect(command));
  ASSERT_TRUE(message && message->identifiers);
  EXPECT_EQ(*message->identifiers, object(text));
}

TEST(InternalMessage, AnyCablesCommandRoundTripsWithItsIdentifiers) {
  RemoteDisconnect command{object(R"({"user":"x","n":1})"), true};
  auto message = parse_internal_message(encode_internal_disconnect(command));
  ASSERT_TRUE(message);
  EXPECT_TRUE(message->reconnect);
  ASSERT_TRUE(message->identifiers);
  EXPECT_EQ(*message->identifiers, object(R"({"n":1,"user":"x"})")) << "key order aside";
}

}  // namespace
}  // namespace cablecast::broadcast
