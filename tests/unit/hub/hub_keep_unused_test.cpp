// HubShard's keep_unused: with history numbered on receipt by an adapter that delivers only the
// streams a node subscribes to (PostgreSQL), a stream stays on the broker for a while after its
// last local subscriber left, so the node goes on receiving (and numbering) it while that
// client is away.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "action_cable_frames.hpp"
#include "fake_adapter.hpp"
#include "hub/hub.hpp"

namespace cablecast::hub {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct CountingSubscriber final : Subscriber {
  std::string_view identifier() const override { return "id"; }
  void deliver(const SharedFrame&) override { ++frames; }
  int frames = 0;
};

struct HubKeepUnusedTest : ::testing::Test {
  boost::asio::io_context io;
  testing::FakeAdapter adapter;
  HubShard shard{io, adapter, testing::kActionCableFrames, 300s};
  int ready = 0;

  // Subscribes and lets the broker's confirmation come back through the loop.
  void subscribe_live(const std::string& stream, Subscriber* subscriber) {
    shard.subscribe(stream, subscriber, [this](boost::system::error_code ec) {
      if (!ec) ++ready;
    });
    io.restart();
    io.run();
  }
};

TEST_F(HubKeepUnusedTest, AStreamLeftByItsLastSubscriberStaysOnTheBrokerUntilItsTimePassed) {
  CountingSubscriber a;
  subscribe_live("s", &a);
  shard.unsubscribe("s", &a);
  EXPECT_TRUE(adapter.unsubscribes.empty());
  EXPECT_EQ(shard.stream_count(), 1u);
  shard.deliver("s", std::make_shared<const std::string>("1"));
  EXPECT_EQ(a.frames, 0) << "a subscriber that left gets nothing";

  shard.forget_unused_streams(Clock::now());
  EXPECT_TRUE(adapter.unsubscribes.empty()) << "still within its time";
  shard.forget_unused_streams(Clock::now() + 301s);
  EXPECT_EQ(adapter.unsubscribes, std::vector<std::string>{"s"});
  EXPECT_EQ(shard.stream_count(), 0u);
}

TEST_F(HubKeepUnusedTest, ASubscriberComingBackMeanwhileIsReadyAtOnceAndKeepsTheStream) {
  CountingSubscriber a, b;
  subscribe_live("s", &a);
  shard.unsubscribe("s", &a);
  shard.subscribe("s", &b, [this](boost::system::error_code ec) {
    if (!ec) ++ready;
  });
  EXPECT_EQ(ready, 2) << "live on the broker all along: no wait";
  EXPECT_EQ(adapter.subscribes, std::vector<std::string>{"s"}) << "asked the broker once";

  shard.forget_unused_streams(Clock::now() + 301s);
  EXPECT_TRUE(adapter.unsubscribes.empty()) << "in use again";
  shard.deliver("s", std::make_shared<const std::string>("1"));
  EXPECT_EQ(b.frames, 1);

  // Left again: kept for a full time from this leave, not from the first one.
  const auto left = Clock::now();
  shard.unsubscribe("s", &b);
  shard.forget_unused_streams(left + 299s);
  EXPECT_TRUE(adapter.unsubscribes.empty());
  shard.forget_unused_streams(left + 301s);
  EXPECT_EQ(adapter.unsubscribes, std::vector<std::string>{"s"});
}

TEST_F(HubKeepUnusedTest, AStreamNotYetLiveOnTheBrokerLeavesAtOnce) {
  // Its subscribe may still fail: a later subscriber must ask the broker again, not wait for
  // an answer that already came.
  adapter.confirm_at_once = false;
  CountingSubscriber a;
  shard.subscribe("s", &a, [](boost::system::error_code) {});
  shard.unsubscribe("s", &a);
  EXPECT_EQ(adapter.unsubscribes, std::vector<std::string>{"s"});
  EXPECT_EQ(shard.stream_count(), 0u);
}

TEST(HubKeepUnused, OffByDefault) {
  boost::asio::io_context io;
  testing::FakeAdapter adapter;
  Hub hub(adapter, testing::kActionCableFrames);
  HubShard& shard = hub.add_shard(io);
  CountingSubscriber a;
  shard.subscribe("s", &a, [](boost::system::error_code) {});
  io.run();
  shard.unsubscribe("s", &a);
  EXPECT_EQ(adapter.unsubscribes, std::vector<std::string>{"s"});
}

TEST(HubKeepUnused, HubGivesItsShardsTheTimeSetWithHistory) {
  boost::asio::io_context io;
  testing::FakeAdapter adapter;
  Hub hub(adapter, testing::kActionCableFrames);
  hub.set_history(nullptr, 60s);
  HubShard& shard = hub.add_shard(io);
  CountingSubscriber a;
  shard.subscribe("s", &a, [](boost::system::error_code) {});
  io.run();
  shard.unsubscribe("s", &a);
  EXPECT_TRUE(adapter.unsubscribes.empty());
  shard.forget_unused_streams(Clock::now() + 61s);
  EXPECT_EQ(adapter.unsubscribes, std::vector<std::string>{"s"});
}

}  // namespace
}  // namespace cablecast::hub
