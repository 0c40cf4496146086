#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "action_cable_frames.hpp"
#include "fake_adapter.hpp"
#include "hub/hub.hpp"

namespace cablecast::hub {
namespace {

struct RecordingSubscriber final : Subscriber {
  explicit RecordingSubscriber(std::string identifier_) : id(std::move(identifier_)) {}
  std::string_view identifier() const override { return id; }
  void deliver(const SharedFrame& frame) override { frames.push_back(frame); }
  std::string id;
  std::vector<SharedFrame> frames;
};

// Drops the 2-byte WebSocket header of a small server text frame.
std::string payload_of(const SharedFrame& frame) { return frame->substr(2); }

struct HubShardTest : ::testing::Test {
  boost::asio::io_context io;
  testing::FakeAdapter adapter;
  HubShard shard{io, adapter, testing::kActionCableFrames};
  std::vector<boost::system::error_code> ready;
  ReadyFn record_ready() {
    return [this](boost::system::error_code ec) { ready.push_back(ec); };
  }
  void deliver(std::string_view stream, std::string payload) {
    shard.deliver(stream, std::make_shared<const std::string>(std::move(payload)));
  }
};

TEST_F(HubShardTest, DeliversToEverySubscriberOfTheStreamOnly) {
  RecordingSubscriber a("A"), b("B"), other("C");
  shard.subscribe("room", &a, record_ready());
  shard.subscribe("room", &b, record_ready());
  shard.subscribe("elsewhere", &other, record_ready());
  deliver("room", R"({"x":1})");
  ASSERT_EQ(a.frames.size(), 1u);
  ASSERT_EQ(b.frames.size(), 1u);
  EXPECT_TRUE(other.frames.empty());
  EXPECT_EQ(payload_of(a.frames[0]), R"({"identifier":"A","message":{"x":1}})");
  EXPECT_EQ(payload_of(b.frames[0]), R"({"identifier":"B","message":{"x":1}})");
}

TEST_F(HubShardTest, EncodesOnceForSubscribersSharingAnIdentifier) {
  RecordingSubscriber a("same"), b("same"), c("different");
  shard.subscribe("s", &a, record_ready());
  shard.subscribe("s", &c, record_ready());
  shard.subscribe("s", &b, record_ready());
  deliver("s", "1");
  ASSERT_EQ(a.frames.size(), 1u);
  EXPECT_EQ(a.frames[0].get(), b.frames[0].get()) << "equal identifiers must share one buffer";
  EXPECT_NE(a.frames[0].get(), c.frames[0].get());
}

// Past a few distinct identifiers the shard looks frames up by index instead of scanning (a
// client may subscribe one stream under hundreds of identifiers): sharing and correctness hold
// on both sides of that switch, with subscribers of one identifier spread apart.
TEST_F(HubShardTest, ManyIdentifiersOnOneStreamEachGetTheirOwnFrameEncodedOnce) {
  std::vector<std::unique_ptr<RecordingSubscriber>> subscribers;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 40; ++i) {
      subscribers.push_back(std::make_unique<RecordingSubscriber>("id" + std::to_string(i)));
      shard.subscribe("s", subscribers.back().get(), record_ready());
    }
  }
  deliver("s", "7");
  for (std::size_t k = 0; k < subscribers.size(); ++k) {
    const auto& sub = *subscribers[k];
    ASSERT_EQ(sub.frames.size(), 1u) << sub.id;
    EXPECT_EQ(payload_of(sub.frames[0]), R"({"identifier":")" + sub.id + R"(","message":7})");
    // The same identifier 40 subscribers later shares the buffer.
    if (k >= 40) {
      EXPECT_EQ(sub.frames[0].get(), subscribers[k - 40]->frames[0].get()) << sub.id;
    }
  }
}

TEST_F(HubShardTest, AsksTheBrokerOnceForTheFirstSubscriberAndReleasesAfterTheLast) {
  RecordingSubscriber a("A"), b("B");
  shard.subscribe("s", &a, record_ready());
  shard.subscribe("s", &b, record_ready());
  EXPECT_EQ(adapter.subscribes, std::vector<std::string>{"s"});
  shard.unsubscribe("s", &a);
  EXPECT_TRUE(adapter.unsubscribes.empty());
  shard.unsubscribe("s", &b);
  EXPECT_EQ(adapter.unsubscribes, std::vector<std::string>{"s"});
  EXPECT_EQ(shard.stream_count(), 0u);
}

TEST_F(HubShardTest, UnsubscribedSubscriberGetsNothingMore) {
  RecordingSubscriber a("A"), b("B");
  shard.subscribe("s", &a, record_ready());
  shard.subscribe("s", &b, record_ready());
  shard.unsubscribe("s", &a);
  deliver("s", "2");
  EXPECT_TRUE(a.frames.empty());
  EXPECT_EQ(b.frames.size(), 1u);
}

TEST_F(HubShardTest, UnknownUnsubscribeIsIgnored) {
  RecordingSubscriber a("A");
  shard.unsubscribe("nothing", &a);
  shard.subscribe("s", &a, record_ready());
  RecordingSubscriber stranger("X");
  shard.unsubscribe("s", &stranger);
  EXPECT_EQ(shard.subscriber_count("s"), 1u);
}

TEST_F(HubShardTest, ReadyWaitsForTheBrokerConfirmationOnThisLoop) {
  adapter.confirm_at_once = false;
  RecordingSubscriber a("A"), b("B");
  shard.subscribe("s", &a, record_ready());
  shard.subscribe("s", &b, record_ready());
  EXPECT_TRUE(ready.empty());
  adapter.confirm_next();
  EXPECT_TRUE(ready.empty()) << "the confirmation must come back through the loop";
  io.run();
  ASSERT_EQ(ready.size(), 2u);
  // Once live, a new subscriber is ready at once.
  RecordingSubscriber c("C");
  shard.subscribe("s", &c, record_ready());
  EXPECT_EQ(ready.size(), 3u);
}

TEST_F(HubShardTest, BrokerFailureReachesEveryWaiter) {
  adapter.confirm_at_once = false;
  RecordingSubscriber a("A");
  shard.subscribe("s", &a, record_ready());
  adapter.confirm_next(boost::system::errc::make_error_code(boost::system::errc::not_connected));
  io.run();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_TRUE(ready[0].failed());
}

TEST_F(HubShardTest, LateConfirmationOfAnEarlierLifeIsIgnored) {
  adapter.confirm_at_once = false;
  RecordingSubscriber a("A");
  shard.subscribe("s", &a, record_ready());
  shard.unsubscribe("s", &a);  // the stream leaves before the broker answered
  shard.subscribe("s", &a, record_ready());
  adapter.confirm_next();  // answer to the first life
  io.run();
  EXPECT_TRUE(ready.empty()) << "must wait for the second subscription's own confirmation";
  adapter.confirm_next();
  io.restart();
  io.run();
  EXPECT_EQ(ready.size(), 1u);
}

TEST(Hub, DeliverPostsToEveryShardLoop) {
  boost::asio::io_context io1, io2;
  testing::FakeAdapter adapter;
  Hub hub(adapter, testing::kActionCableFrames);
  HubShard& s1 = hub.add_shard(io1);
  HubShard& s2 = hub.add_shard(io2);
  RecordingSubscriber a("A"), b("B");
  s1.subscribe("s", &a, [](auto) {});
  s2.subscribe("s", &b, [](auto) {});
  hub.deliver("s", std::make_shared<const std::string>("true"));
  EXPECT_TRUE(a.frames.empty()) << "delivery happens on the shard's own loop";
  io1.run();
  io2.run();
  EXPECT_EQ(a.frames.size(), 1u);
  EXPECT_EQ(b.frames.size(), 1u);
}

}  // namespace
}  // namespace cablecast::hub
