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

struct TallySubscriber final : Subscriber {
  explicit TallySubscriber(std::string identifier_) : id(std::move(identifier_)) {}
  std::string_view identifier() const override { return id; }
  void deliver(const SharedFrame&) override { ++frames; }
  std::string id;
  int frames = 0;
};

struct HubMetricsTest : ::testing::Test {
  boost::asio::io_context io;
  testing::FakeAdapter adapter;
  metrics::LoopMetrics counters;
  HubShard shard{io, adapter, testing::kActionCableFrames, std::chrono::seconds(0), &counters};
  void deliver(std::string_view stream) {
    shard.deliver(stream, std::make_shared<const std::string>("1"));
  }
};

TEST_F(HubMetricsTest, CountsEveryFrameQueuedAndOneFanOutPerBroadcast) {
  TallySubscriber a("A"), b("B"), c("C");
  shard.subscribe("room", &a, [](auto) {});
  shard.subscribe("room", &b, [](auto) {});
  shard.subscribe("room", &c, [](auto) {});
  deliver("room");
  deliver("room");
  EXPECT_EQ(counters.messages_delivered.value(), 6u);
  std::uint64_t observations = 0;
  for (std::size_t i = 0; i <= metrics::kFanoutBuckets.size(); ++i) {
    observations += counters.fanout.bucket_count(i);
  }
  EXPECT_EQ(observations, 2u);
}

TEST_F(HubMetricsTest, ABroadcastToAStreamNobodyHereFollowsCostsNoFanOut) {
  deliver("nobody");
  EXPECT_EQ(counters.messages_delivered.value(), 0u);
  EXPECT_EQ(counters.fanout.bucket_count(0), 0u);
}

TEST_F(HubMetricsTest, TheStreamsGaugeFollowsTheIndex) {
  TallySubscriber a("A"), b("B");
  shard.subscribe("one", &a, [](auto) {});
  shard.subscribe("two", &b, [](auto) {});
  shard.subscribe("two", &a, [](auto) {});
  EXPECT_EQ(counters.streams.value(), 2);
  shard.unsubscribe("two", &b);
  EXPECT_EQ(counters.streams.value(), 2);
  shard.unsubscribe("two", &a);
  EXPECT_EQ(counters.streams.value(), 1);
}

TEST(HubReceivedBroadcasts, AreCountedOnceForTheNodeByTheFirstShard) {
  testing::FakeAdapter adapter;
  Hub hub(adapter, testing::kActionCableFrames);
  boost::asio::io_context io1, io2;
  metrics::LoopMetrics m1, m2;
  hub.add_shard(io1, &m1);
  hub.add_shard(io2, &m2);
  hub.deliver("s", std::make_shared<const std::string>("1"));
  hub.deliver("s", std::make_shared<const std::string>("2"));
  io1.run();
  io2.run();
  EXPECT_EQ(m1.broadcasts.value(static_cast<std::size_t>(metrics::BroadcastSource::pubsub)), 2u);
  EXPECT_EQ(m2.broadcasts.value(static_cast<std::size_t>(metrics::BroadcastSource::pubsub)), 0u);
}

TEST(HubReceivedBroadcasts, LeaveOutTheServersOwnStreamsSuchAsTheHealthCanary) {
  testing::FakeAdapter adapter;
  Hub hub(adapter, testing::kActionCableFrames);
  boost::asio::io_context io;
  metrics::LoopMetrics counters;
  HubShard& shard = hub.add_shard(io, &counters);
  TallySubscriber canary("canary");
  shard.subscribe("__cablecast_health__:1", &canary, [](auto) {});
  hub.deliver("__cablecast_health__:1", std::make_shared<const std::string>("1"));
  hub.deliver("room", std::make_shared<const std::string>("2"));
  io.run();
  EXPECT_EQ(canary.frames, 1);  // delivered all the same
  EXPECT_EQ(counters.broadcasts.value(static_cast<std::size_t>(metrics::BroadcastSource::pubsub)),
            1u);
  EXPECT_EQ(counters.messages_delivered.value(), 0u);
  EXPECT_EQ(counters.fanout.bucket_count(0), 0u);
}

}  // namespace
}  // namespace cablecast::hub
