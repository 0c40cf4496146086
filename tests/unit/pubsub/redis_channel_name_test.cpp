// Rails' ChannelPrefix: [channel_prefix, broadcasting].compact.join(":").
#include <gtest/gtest.h>

#include "pubsub/redis/channel_name.hpp"

namespace cablecast::pubsub::redis {
namespace {

TEST(RedisChannelName, PrefixIsJoinedWithAColon) {
  EXPECT_EQ(channel_for("myapp_production", "chat_1"), "myapp_production:chat_1");
  EXPECT_EQ(channel_for("p", "action_cable/Z2lkOi8v"), "p:action_cable/Z2lkOi8v");
}

TEST(RedisChannelName, NoPrefixMeansTheBroadcastingItself) {
  EXPECT_EQ(channel_for("", "chat_1"), "chat_1");
  EXPECT_EQ(stream_for("", "chat_1"), "chat_1");
}

TEST(RedisChannelName, StreamIsRecoveredOnlyFromOurPrefix) {
  EXPECT_EQ(stream_for("app", "app:chat_1"), "chat_1");
  EXPECT_EQ(stream_for("app", "app:a:b"), "a:b");
  EXPECT_EQ(stream_for("app", "other:chat_1"), std::nullopt);
  EXPECT_EQ(stream_for("app", "appx:chat_1"), std::nullopt);
  EXPECT_EQ(stream_for("app", "app"), std::nullopt);
  EXPECT_EQ(stream_for("app", "app:"), "");  // broadcast("") in Rails
  EXPECT_EQ(stream_for("app", std::string(kInternalChannel)), std::nullopt);
}

TEST(RedisChannelName, RoundTripsEveryBroadcastingName) {
  for (std::string_view stream : {"x", "chat:1", "a b", "ünïcode", ":"}) {
    EXPECT_EQ(stream_for("pre", channel_for("pre", stream)), stream);
  }
}

}  // namespace
}  // namespace cablecast::pubsub::redis
