#include "session/session_state.hpp"

#include <gtest/gtest.h>

namespace cablecast::session {
namespace {

TEST(SessionState, RoundTripsIdentityStateAndSubscriptions) {
  SavedSession saved;
  saved.identifiers["user"] = "alice";
  saved.rpc_identifiers = R"({"user":"gid://app/User/1"})";
  saved.cstate = {{"locale", "fr"}};
  saved.sid = "old-sid";
  SavedSubscription chat;
  chat.identifier = R"({"channel":"ChatChannel"})";
  chat.presence_stream = "chat_1";
  chat.presence_id = "42";
  chat.presence_info = R"({"name":"Vova"})";
  saved.subscriptions.push_back(chat);
  SavedSubscription room;
  room.identifier = R"({"channel":"RoomChannel","id":1})";
  room.rpc = true;
  room.istate = {{"$w", "room_1"}, {"n", "2"}};
  room.streams = {"room_1"};
  saved.subscriptions.push_back(room);
  auto decoded = decode_session_state(encode_session_state(saved));
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->identifiers, saved.identifiers);
  EXPECT_EQ(decoded->rpc_identifiers, saved.rpc_identifiers);
  EXPECT_EQ(decoded->cstate, saved.cstate);
  ASSERT_EQ(decoded->subscriptions.size(), 2u);
  EXPECT_FALSE(decoded->subscriptions[0].rpc);
  EXPECT_EQ(decoded->subscriptions[0].identifier, saved.subscriptions[0].identifier);
  EXPECT_EQ(decoded->sid, "old-sid");
  EXPECT_EQ(decoded->subscriptions[0].presence_stream, "chat_1");
  EXPECT_EQ(decoded->subscriptions[0].presence_id, "42");
  EXPECT_EQ(decoded->subscriptions[0].presence_info, R"({"name":"Vova"})");
  EXPECT_TRUE(decoded->subscriptions[1].presence_id.empty());
  EXPECT_TRUE(decoded->subscriptions[1].rpc);
  EXPECT_EQ(decoded->subscriptions[1].istate, saved.subscriptions[1].istate);
  EXPECT_EQ(decoded->subscriptions[1].streams, std::vector<std::string>{"room_1"});
}

TEST(SessionState, RefusesWhatItDidNotWrite) {
  EXPECT_FALSE(decode_session_state(""));
  EXPECT_FALSE(decode_session_state("[]"));
  EXPECT_FALSE(decode_session_state(R"({"v":2,"ids":{},"subs":[]})"));
  EXPECT_FALSE(decode_session_state(R"({"v":1,"ids":{},"subs":[{"id":1}]})"));
  EXPECT_FALSE(decode_session_state(R"({"v":1,"ids":{},"subs":[{"id":"x","istate":{"a":1}}]})"));
  EXPECT_TRUE(decode_session_state(R"({"v":1,"ids":{},"subs":[]})"));
}

}  // namespace
}  // namespace cablecast::session
