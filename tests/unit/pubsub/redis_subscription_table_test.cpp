// SubscriptionTable: reference counting across shards, ready callbacks fired exactly once and
// never before the SUBSCRIBE sent after them is acknowledged, resubscription after a loss.
#include <gtest/gtest.h>

#include <algorithm>

#include "pubsub/redis/subscription_table.hpp"

namespace cablecast::pubsub::redis {
namespace {

struct RedisSubscriptionTableTest : ::testing::Test {
  SubscriptionTable table;
  std::vector<std::string> fired;  // labels of ready callbacks, in firing order

  ReadyFn ready(std::string label) {
    return [this, label](boost::system::error_code ec) {
      EXPECT_FALSE(ec);
      fired.push_back(label);
    };
  }
  // add() plus running what it says is ready now, as the adapter does.
  bool add(const std::string& stream, std::string label) {
    std::vector<ReadyFn> now;
    bool send = table.add(stream, ready(std::move(label)), now);
    for (auto& f : now) f({});
    return send;
  }
  void ack(std::string_view stream) {
    for (auto& f : table.acknowledged(stream)) f({});
  }
};

TEST_F(RedisSubscriptionTableTest, FirstAddSubscribesLaterAddsWaitForTheSameAcknowledgement) {
  table.connected();
  EXPECT_TRUE(add("s", "a"));
  EXPECT_FALSE(add("s", "b"));  // another shard: no second SUBSCRIBE
  EXPECT_TRUE(fired.empty());
  EXPECT_FALSE(table.is_live("s"));
  ack("s");
  EXPECT_EQ(fired, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(table.is_live("s"));
  EXPECT_EQ(table.references("s"), 2u);
}

TEST_F(RedisSubscriptionTableTest, AddToALiveStreamIsReadyAtOnce) {
  table.connected();
  add("s", "a");
  ack("s");
  EXPECT_FALSE(add("s", "b"));
  EXPECT_EQ(fired, (std::vector<std::string>{"a", "b"}));
}

TEST_F(RedisSubscriptionTableTest, OnlyTheLastRemoveUnsubscribes) {
  table.connected();
  add("s", "a");
  add("s", "b");
  ack("s");
  EXPECT_FALSE(table.remove("s"));
  EXPECT_TRUE(table.remove("s"));
  EXPECT_EQ(table.references("s"), 0u);
  EXPECT_EQ(table.stream_count(), 0u);
  EXPECT_FALSE(table.remove("s"));        // unbalanced: ignored
  EXPECT_FALSE(table.remove("unknown"));  // never added: ignored
}

TEST_F(RedisSubscriptionTableTest, AcknowledgementOfAnEarlierLifeDoesNotConfirmTheNextOne) {
  table.connected();
  EXPECT_TRUE(add("s", "first"));
  EXPECT_TRUE(table.remove("s"));   // UNSUBSCRIBE sent before the SUBSCRIBE was acknowledged
  EXPECT_TRUE(add("s", "second"));  // SUBSCRIBE again
  ack("s");                         // acknowledges the first SUBSCRIBE only
  EXPECT_TRUE(fired.empty());
  EXPECT_FALSE(table.is_live("s"));
  ack("s");
  EXPECT_EQ(fired, (std::vector<std::string>{"second"}));
  EXPECT_TRUE(table.is_live("s"));
}

TEST_F(RedisSubscriptionTableTest, RemovedBeforeAcknowledgementDropsTheCallbackAndTheEntry) {
  table.connected();
  add("s", "a");
  table.remove("s");
  ack("s");
  EXPECT_TRUE(fired.empty());
  EXPECT_EQ(table.stream_count(), 0u);
  EXPECT_TRUE(add("s", "b"));  // a fresh life needs a fresh SUBSCRIBE
}

TEST_F(RedisSubscriptionTableTest, WhileDisconnectedNothingIsSentAndConnectSubscribesEverything) {
  EXPECT_FALSE(add("a", "a1"));
  EXPECT_FALSE(add("b", "b1"));
  EXPECT_FALSE(add("b", "b2"));
  EXPECT_FALSE(table.remove("b"));
  auto streams = table.connected();
  std::sort(streams.begin(), streams.end());
  EXPECT_EQ(streams, (std::vector<std::string>{"a", "b"}));
  ack("b");
  ack("a");
  // A remove() does not say whose callback it balances (nor does Rails'): while the stream is
  // still referenced, every waiting callback fires; the hub ignores those of a shard that left.
  EXPECT_EQ(fired, (std::vector<std::string>{"b1", "b2", "a1"}));
}

TEST_F(RedisSubscriptionTableTest, ReconnectResubscribesLiveStreamsWithoutDuplicateReadyCallbacks) {
  table.connected();
  add("live", "l");
  ack("live");
  add("pending", "p");  // SUBSCRIBE in flight when the connection drops
  add("gone", "g");
  ack("gone");
  table.remove("gone");
  ASSERT_EQ(fired, (std::vector<std::string>{"l", "g"}));

  table.disconnected();
  EXPECT_FALSE(table.is_live("live"));
  EXPECT_FALSE(add("live", "l2"));  // during the outage: waits, nothing sent
  auto streams = table.connected();
  std::sort(streams.begin(), streams.end());
  EXPECT_EQ(streams, (std::vector<std::string>{"live", "pending"}));

  ack("pending");
  ack("live");
  // "l" is not fired again; "p" (never fired) and "l2" fire once.
  EXPECT_EQ(fired, (std::vector<std::string>{"l", "g", "p", "l2"}));
  EXPECT_TRUE(table.is_live("live"));
  EXPECT_EQ(table.references("live"), 2u);
}

TEST_F(RedisSubscriptionTableTest, AcknowledgementLostWithTheConnectionIsNotCountedTwice) {
  table.connected();
  add("s", "a");
  table.disconnected();  // the SUBSCRIBE's reply never came
  table.connected();
  ack("s");  // the reply to the SUBSCRIBE sent on the new connection
  EXPECT_EQ(fired, (std::vector<std::string>{"a"}));
}

TEST_F(RedisSubscriptionTableTest, UnknownAcknowledgementsAreIgnored) {
  table.connected();
  EXPECT_TRUE(table.acknowledged("nobody").empty());
  EXPECT_EQ(table.stream_count(), 0u);
}

}  // namespace
}  // namespace cablecast::pubsub::redis
