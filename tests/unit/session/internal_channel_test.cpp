// A session's part in application broadcasts: its subscriptions answer to its sid for
// meta.exclude_socket, and an identified session listens on Rails' internal broadcasting for
// remote disconnects.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/verb.hpp>

#include "fake_adapter.hpp"
#include "fake_transport.hpp"
#include "hub/hub.hpp"
#include "session/session.hpp"
#include "test_loop.hpp"

namespace cablecast::session {
namespace {

class StreamingChannel : public Channel {
 public:
  static void define_actions(Actions<StreamingChannel>&) {}

 protected:
  void subscribed() override { stream_from("room"); }
};

struct InternalChannelTest : ::testing::Test, testing::TestLoop {
  InternalChannelTest() {
    channels.emplace("StreamingChannel",
                     detail::make_channel_class<StreamingChannel>("StreamingChannel"));
    hook = [this](const ConnectionRequest&) { return ConnectResult::accept(identifiers); };
  }
  ~InternalChannelTest() override {
    if (session) session->on_closed();
    session.reset();
    pool.join();
  }
  void open() {
    ws::Request request{boost::beast::http::verb::get, "/cable", 11};
    session = std::make_unique<Session>(env, transport);
    session->on_open(ws::UpgradeInfo{request, "127.0.0.1", "actioncable-v1-json"});
    run();
  }
  void run() { drain(); }
  void deliver(std::string_view stream, std::string text, const broadcast::Meta* meta = nullptr) {
    shard.deliver(stream, std::make_shared<const std::string>(std::move(text)), meta);
  }
  const std::string& last_sent() const { return transport.sent.back(); }

  boost::json::object identifiers{{"user", "bob"}};
  testing::FakeTransport transport;
  std::unique_ptr<Session> session;
};

TEST_F(InternalChannelTest, AnIdentifiedConnectionListensOnItsInternalBroadcasting) {
  identifiers = {{"user", "bob"}, {"account", "acme"}};
  open();
  EXPECT_EQ(adapter.internal_subscribes, std::vector<std::string>{"action_cable/acme:bob"});
  session->on_closed();
  EXPECT_EQ(adapter.internal_unsubscribes, std::vector<std::string>{"action_cable/acme:bob"});
}

TEST_F(InternalChannelTest, AConnectionWithoutIdentifiersListensOnNothing) {
  identifiers = {};
  open();
  EXPECT_TRUE(adapter.internal_subscribes.empty());
  EXPECT_EQ(shard.stream_count(), 0u);
}

TEST_F(InternalChannelTest, RailsRemoteDisconnectClosesWithReasonRemote) {
  open();
  deliver("action_cable/bob", R"({"type":"disconnect","reconnect":false})");
  EXPECT_EQ(last_sent(), R"({"type":"disconnect","reason":"remote","reconnect":false})");
  EXPECT_EQ(transport.closed_with, 1000);
}

TEST_F(InternalChannelTest, RailsSevenZeroDisconnectWithoutReconnectMeansReconnect) {
  open();
  deliver("action_cable/bob", R"({"type":"disconnect"})");
  EXPECT_EQ(last_sent(), R"({"type":"disconnect","reason":"remote","reconnect":true})");
}

TEST_F(InternalChannelTest, OtherInternalMessagesAreIgnored) {
  open();
  deliver("action_cable/bob", R"({"type":"something_else"})");
  deliver("action_cable/bob", "garbage");
  EXPECT_FALSE(transport.closed_with);
}

TEST_F(InternalChannelTest, AnyCableCommandClosesOnlyConnectionsWithEqualIdentifiers) {
  identifiers = {{"a", "x"}, {"b", "y"}};
  open();
  // {"a":"y","b":"x"} has the same Rails connection identifier ("x:y"), not the same identifiers.
  deliver("action_cable/x:y",
          R"({"type":"disconnect","reconnect":true,"identifiers":{"a":"y","b":"x"}})");
  EXPECT_FALSE(transport.closed_with);
  deliver("action_cable/x:y",
          R"({"type":"disconnect","reconnect":true,"identifiers":{"b":"y","a":"x"}})");
  EXPECT_EQ(last_sent(), R"({"type":"disconnect","reason":"remote","reconnect":true})");
  EXPECT_EQ(transport.closed_with, 1000);
}

TEST_F(InternalChannelTest, ExcludeSocketSkipsThisSessionsSubscriptionsOnly) {
  open();
  session->on_text(R"({"command":"subscribe","identifier":"{\"channel\":\"StreamingChannel\"}"})");
  run();
  const std::size_t before = transport.sent.size();
  broadcast::Meta meta;
  meta.exclude_socket = std::string(session->sid().view());
  deliver("room", "1", &meta);
  EXPECT_EQ(transport.sent.size(), before) << "excluded";
  meta.exclude_socket = "someone-else";
  deliver("room", "2", &meta);
  ASSERT_EQ(transport.sent.size(), before + 1);
  EXPECT_EQ(last_sent(), R"({"identifier":"{\"channel\":\"StreamingChannel\"}","message":2})");
}

}  // namespace
}  // namespace cablecast::session
