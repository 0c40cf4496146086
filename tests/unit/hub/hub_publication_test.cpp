// Publications from the application through the hub: meta (exclude_socket, broadcast_type), the
// envelope that carries it between nodes, and listeners (a connection's internal broadcasting).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "action_cable_frames.hpp"
#include "broadcast/envelope.hpp"
#include "fake_adapter.hpp"
#include "hub/hub.hpp"

namespace cablecast::hub {
namespace {

// A subscription of one connection (socket): records frames, counts socket id lookups.
struct SocketSubscriber final : Subscriber {
  SocketSubscriber(std::string identifier_, std::string sid_)
      : id(std::move(identifier_)), sid(std::move(sid_)) {}
  std::string_view identifier() const override { return id; }
  void deliver(const SharedFrame& frame) override { frames.push_back(frame); }
  std::string_view socket_id() const override {
    ++socket_id_calls;
    return sid;
  }
  std::string id;
  std::string sid;
  std::vector<SharedFrame> frames;
  mutable int socket_id_calls = 0;
};

struct RecordingListener final : Listener {
  void on_stream_message(std::string_view message) override { messages.emplace_back(message); }
  std::vector<std::string> messages;
};

std::string text_of(const SharedFrame& frame) { return frame->substr(2); }  // small frames only

pubsub::Payload payload(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

broadcast::Meta excluding(std::string sid) {
  broadcast::Meta meta;
  meta.exclude_socket = std::move(sid);
  return meta;
}

struct HubPublicationTest : ::testing::Test {
  boost::asio::io_context io;
  testing::FakeAdapter adapter;
  Hub hub{adapter, testing::kActionCableFrames};
  HubShard& shard = hub.add_shard(io);
  static void ignore(boost::system::error_code) {}
  void run() {
    io.restart();
    io.run();
  }
};

TEST_F(HubPublicationTest, ExcludeSocketSkipsEverySubscriptionOfThatSessionOnly) {
  SocketSubscriber mine("A", "sid-1"), mine_too("B", "sid-1"), other("A", "sid-2");
  shard.subscribe("s", &mine, ignore);
  shard.subscribe("s", &mine_too, ignore);
  shard.subscribe("s", &other, ignore);
  broadcast::Meta meta = excluding("sid-1");
  shard.deliver("s", payload("1"), &meta);
  EXPECT_TRUE(mine.frames.empty());
  EXPECT_TRUE(mine_too.frames.empty());
  ASSERT_EQ(other.frames.size(), 1u);
  EXPECT_EQ(text_of(other.frames[0]), R"({"identifier":"A","message":1})");
}

TEST_F(HubPublicationTest, APlainBroadcastNeverAsksForSocketIds) {
  SocketSubscriber a("A", "sid-1"), b("A", "sid-2");
  shard.subscribe("s", &a, ignore);
  shard.subscribe("s", &b, ignore);
  shard.deliver("s", payload("1"));
  broadcast::Meta typed;
  typed.broadcast_type = "presence";
  shard.deliver("s", payload("2"), &typed);
  EXPECT_EQ(a.socket_id_calls + b.socket_id_calls, 0);
  EXPECT_EQ(a.frames.size(), 2u);
  EXPECT_EQ(a.frames[0].get(), b.frames[0].get()) << "still one frame per identifier";
}

TEST_F(HubPublicationTest, ExclusionKeepsOneFramePerIdentifierForTheOthers) {
  SocketSubscriber skipped("A", "me"), a("A", "x"), b("A", "y");
  shard.subscribe("s", &skipped, ignore);
  shard.subscribe("s", &a, ignore);
  shard.subscribe("s", &b, ignore);
  broadcast::Meta meta = excluding("me");
  shard.deliver("s", payload("1"), &meta);
  ASSERT_EQ(a.frames.size(), 1u);
  ASSERT_EQ(b.frames.size(), 1u);
  EXPECT_EQ(a.frames[0].get(), b.frames[0].get());
}

TEST_F(HubPublicationTest, BroadcastTypeBecomesTheTypeOfEveryFrame) {
  SocketSubscriber a("A", "1"), b("B", "2");
  shard.subscribe("s", &a, ignore);
  shard.subscribe("s", &b, ignore);
  broadcast::Meta meta;
  meta.broadcast_type = "presence";
  shard.deliver("s", payload(R"({"type":"join"})"), &meta);
  EXPECT_EQ(text_of(a.frames.at(0)),
            R"({"type":"presence","identifier":"A","message":{"type":"join"}})");
  EXPECT_EQ(text_of(b.frames.at(0)),
            R"({"type":"presence","identifier":"B","message":{"type":"join"}})");
}

TEST_F(HubPublicationTest, AnEnvelopeFromAnotherNodeIsUnwrappedBeforeFramesAreBuilt) {
  SocketSubscriber sender("A", "sid-1"), other("A", "sid-2");
  shard.subscribe("s", &sender, ignore);
  shard.subscribe("s", &other, ignore);
  broadcast::Meta meta = excluding("sid-1");
  meta.broadcast_type = "t";
  hub.deliver("s", payload(broadcast::wrap(meta, R"({"x":1})")));
  run();
  EXPECT_TRUE(sender.frames.empty());
  ASSERT_EQ(other.frames.size(), 1u);
  EXPECT_EQ(text_of(other.frames[0]), R"({"type":"t","identifier":"A","message":{"x":1}})");
}

TEST_F(HubPublicationTest, AMalformedEnvelopeIsDroppedAndLaterBroadcastsStillArrive) {
  SocketSubscriber a("A", "1");
  shard.subscribe("s", &a, ignore);
  hub.deliver("s", payload(broadcast::envelope_prefix("{broken") + "1"));
  hub.deliver("s", payload("2"));
  run();
  ASSERT_EQ(a.frames.size(), 1u);
  EXPECT_EQ(text_of(a.frames[0]), R"({"identifier":"A","message":2})");
}

TEST_F(HubPublicationTest, ADecodedPublicationIsDeliveredWithItsMeta) {
  SocketSubscriber a("A", "1"), b("A", "2");
  shard.subscribe("s", &a, ignore);
  shard.subscribe("s", &b, ignore);
  hub.deliver("s", payload("3"), std::make_shared<const broadcast::Meta>(excluding("2")));
  run();
  EXPECT_EQ(a.frames.size(), 1u);
  EXPECT_TRUE(b.frames.empty());
}

TEST_F(HubPublicationTest, ListenersGetTheMessageTextAndSubscribersTheirFrames) {
  RecordingListener listener;
  SocketSubscriber subscriber("A", "1");
  shard.listen("action_cable/u", &listener, ignore);
  shard.subscribe("action_cable/u", &subscriber, ignore);
  shard.deliver("action_cable/u", payload(R"({"type":"disconnect"})"));
  EXPECT_EQ(listener.messages, std::vector<std::string>{R"({"type":"disconnect"})"});
  EXPECT_EQ(subscriber.frames.size(), 1u);
}

TEST_F(HubPublicationTest, ListenersShareTheStreamWithSubscribersAndTheBrokerIsAskedOnce) {
  RecordingListener one, two;
  SocketSubscriber subscriber("A", "1");
  shard.listen("u", &one, ignore);
  shard.listen("u", &two, ignore);
  shard.subscribe("u", &subscriber, ignore);
  EXPECT_EQ(adapter.subscribes, std::vector<std::string>{"u"});
  shard.unsubscribe("u", &subscriber);
  shard.unlisten("u", &one);
  EXPECT_TRUE(adapter.unsubscribes.empty()) << "a listener still needs it";
  shard.deliver("u", payload("1"));
  EXPECT_TRUE(one.messages.empty());
  EXPECT_EQ(two.messages.size(), 1u);
  shard.unlisten("u", &two);
  EXPECT_EQ(adapter.unsubscribes, std::vector<std::string>{"u"});
  EXPECT_EQ(shard.stream_count(), 0u);
}

TEST_F(HubPublicationTest, ListenWaitsForTheBrokerLikeSubscribe) {
  adapter.confirm_at_once = false;
  RecordingListener listener;
  bool ready = false;
  shard.listen("u", &listener, [&](boost::system::error_code ec) { ready = !ec; });
  EXPECT_FALSE(ready);
  adapter.confirm_next();
  run();
  EXPECT_TRUE(ready);
}

TEST_F(HubPublicationTest, UnknownUnlistenIsIgnored) {
  RecordingListener listener, stranger;
  shard.unlisten("nothing", &listener);
  shard.listen("u", &listener, ignore);
  shard.unlisten("u", &stranger);
  shard.deliver("u", payload("1"));
  EXPECT_EQ(listener.messages.size(), 1u);
}

}  // namespace
}  // namespace cablecast::hub
