#include <gtest/gtest.h>

#include <cablecast/channel.hpp>

namespace cablecast {
namespace {

TEST(RailsChannelName, DropsTheChannelSuffixAndUnderscores) {
  EXPECT_EQ(detail::rails_channel_name("ChatChannel"), "chat");
  EXPECT_EQ(detail::rails_channel_name("BenchmarkChannel"), "benchmark");
  EXPECT_EQ(detail::rails_channel_name("WebNotificationsChannel"), "web_notifications");
}

TEST(RailsChannelName, TurnsNamespacesIntoColons) {
  EXPECT_EQ(detail::rails_channel_name("Admin::AlertsChannel"), "admin:alerts");
  EXPECT_EQ(detail::rails_channel_name("Turbo::StreamsChannel"), "turbo:streams");
}

TEST(RailsChannelName, SplitsAcronymsLikeActiveSupport) {
  EXPECT_EQ(detail::rails_channel_name("HTMLPreviewChannel"), "html_preview");
  EXPECT_EQ(detail::rails_channel_name("Room2Channel"), "room2");
  EXPECT_EQ(detail::rails_channel_name("Channel"), "channel") << "nothing left to strip";
}

struct Post {
  int id;
};
std::string to_broadcasting_key(const Post& post) { return "Post/" + std::to_string(post.id); }

TEST(BroadcastingKey, AcceptsStringsIntegersAndCustomTypes) {
  EXPECT_EQ(broadcasting_key("room"), "room");
  EXPECT_EQ(broadcasting_key(std::string("x")), "x");
  EXPECT_EQ(broadcasting_key(42), "42");
  EXPECT_EQ(broadcasting_key(Post{7}), "Post/7");
}

}  // namespace
}  // namespace cablecast
