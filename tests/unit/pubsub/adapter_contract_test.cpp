// What pubsub::Adapter promises (src/pubsub/adapter.hpp), checked for every adapter: memory,
// Redis and PostgreSQL. The interface promises delivery of what a node subscribed to; it does not
// promise that nothing else arrives (the memory adapter hands every broadcast to the hub, which
// filters), so "unsubscribed means no longer delivered" is in broker_adapter_contract_test.cpp.
#include "adapter_contract.hpp"

namespace cablecast::pubsub::contract {
namespace {

using Kinds = ::testing::Types<MemoryKind, RedisKind, PostgresKind>;

TYPED_TEST_SUITE(AdapterContract, Kinds, KindName);

// "s7" (spelled so: g++ 12 warns falsely on "s" + std::to_string(i) inlined in a loop).
std::string numbered(std::string_view base, int i) {
  std::string name(base);
  name += std::to_string(i);
  return name;
}

TYPED_TEST(AdapterContract, ASubscribedStreamGetsEveryBroadcastOnceAndInOrder) {
  ASSERT_FALSE(this->subscribe("seq"));
  std::vector<std::string> sent;
  for (int i = 0; i < 300; ++i) {
    sent.push_back(std::to_string(i));
    ASSERT_NO_FATAL_FAILURE(this->publish("seq", sent.back()));
  }
  ASSERT_NO_FATAL_FAILURE(this->fence());
  EXPECT_EQ(this->payloads("seq"), sent);
}

TYPED_TEST(AdapterContract, TwoSubscribersOfAStreamOnOneNodeGetEachBroadcastOnceBetweenThem) {
  // Two loops each gained a first local subscriber: the node receives the stream once, and
  // keeps it until the second unsubscribe balances the second subscribe.
  ASSERT_FALSE(this->subscribe("shared"));
  ASSERT_FALSE(this->subscribe("shared"));
  ASSERT_NO_FATAL_FAILURE(this->publish("shared", "1"));
  this->adapter_->unsubscribe("shared");
  ASSERT_NO_FATAL_FAILURE(this->fence());
  ASSERT_NO_FATAL_FAILURE(this->publish("shared", "2"));
  ASSERT_NO_FATAL_FAILURE(this->fence());
  EXPECT_EQ(this->payloads("shared"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(this->ready_calls("shared"), 2);
}

TYPED_TEST(AdapterContract, ASubscriptionIsReadyOnceAndMissesNothingPublishedAfterwards) {
  // Rails' rule for confirm_subscription: whatever is broadcast after the confirmation reaches
  // the subscriber. A publisher keeps broadcasting while the subscription is made.
  auto run = this->subscribe_while_publishing("live");
  ASSERT_NO_FATAL_FAILURE(this->fence());
  const int sent_at_ready = run.sent_at_ready, last_sent = run.last_sent;

  // Everything sent after the ready callback ran arrived, once and in order.
  std::vector<std::string> after;
  for (const auto& p : this->payloads("live")) {
    if (std::stoi(p) > sent_at_ready) after.push_back(p);
  }
  std::vector<std::string> expected;
  for (int i = sent_at_ready + 1; i <= last_sent; ++i) expected.push_back(std::to_string(i));
  EXPECT_FALSE(expected.empty()) << "nothing was published after the ready callback";
  EXPECT_EQ(after, expected);
  EXPECT_EQ(this->ready_calls("live"), 1);
}

TYPED_TEST(AdapterContract, ResubscribingAfterUnsubscribeDeliversAgain) {
  ASSERT_FALSE(this->subscribe("again"));
  this->adapter_->unsubscribe("again");
  ASSERT_FALSE(this->subscribe("again"));
  ASSERT_NO_FATAL_FAILURE(this->publish("again", "back"));
  ASSERT_NO_FATAL_FAILURE(this->fence());
  EXPECT_EQ(this->payloads("again"), std::vector<std::string>{"back"});
}

TYPED_TEST(AdapterContract, ManyStreamsEachGetTheirOwnBroadcasts) {
  constexpr int kStreams = 40;
  for (int i = 0; i < kStreams; ++i) ASSERT_FALSE(this->subscribe(numbered("s", i)));
  for (int i = 0; i < kStreams; ++i) {
    ASSERT_NO_FATAL_FAILURE(this->publish(numbered("s", i), std::to_string(1000 + i)));
  }
  ASSERT_NO_FATAL_FAILURE(this->fence());
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_EQ(this->payloads(numbered("s", i)), std::vector<std::string>{std::to_string(1000 + i)})
        << "stream s" << i;
  }
}

TYPED_TEST(AdapterContract, PayloadsArriveByteForByte) {
  const std::vector<std::string> sent = {
      "",
      "\"caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x8e\x89\"",      // 2-, 3- and 4-byte UTF-8
      R"({"q":"it's \"quoted\"","esc":"\u0000\n\t\\"})",                // JSON escapes, quotes
      "\x01\x02\x1f\x7f line\r\nbreak",                                 // control characters
      "\"" + std::string(TypeParam::kMaxPayloadBytes - 2, 'x') + "\"",  // the largest accepted
  };
  ASSERT_FALSE(this->subscribe("bytes"));
  for (const auto& payload : sent) ASSERT_NO_FATAL_FAILURE(this->publish("bytes", payload));
  ASSERT_NO_FATAL_FAILURE(this->fence());
  auto got = this->payloads("bytes");
  ASSERT_EQ(got.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_TRUE(got[i] == sent[i]) << "payload " << i;
}

TYPED_TEST(AdapterContract, PublishingToAStreamNobodySubscribedToSucceeds) {
  auto published = this->adapter_->publish("nobody_here", "1");
  EXPECT_TRUE(published) << published.error().message();
  ASSERT_NO_FATAL_FAILURE(this->fence());
}

TYPED_TEST(AdapterContract, HealthIsConnectedOnceStarted) {
  auto health = this->adapter_->health();
  EXPECT_TRUE(health.connected) << health.reason;
  EXPECT_EQ(health.reason, "");
  EXPECT_EQ(health.reconnects, 0u);
}

TYPED_TEST(AdapterContract, ReconnectKeepsEverySubscriptionWithoutASecondReady) {
  ASSERT_FALSE(this->subscribe("kept"));
  this->adapter_->reconnect();
  if constexpr (TypeParam::kReconnects) {
    ASSERT_TRUE(cablecast::testing::eventually(
        [&] { return this->adapter_->health().reconnects >= 1; }, 10s))
        << "reconnect() re-established nothing";
  }
  ASSERT_TRUE(
      cablecast::testing::eventually([&] { return this->adapter_->health().connected; }, 10s))
      << this->adapter_->health().reason;
  ASSERT_NO_FATAL_FAILURE(this->fence());  // subscribed after the subscriptions were renewed
  ASSERT_NO_FATAL_FAILURE(this->publish("kept", "after"));
  EXPECT_TRUE(this->delivered("kept", "after"));
  EXPECT_EQ(this->ready_calls("kept"), 1);
}

TYPED_TEST(AdapterContract, AStoppedAdapterRefusesToPublish) {
  this->stop();
  EXPECT_FALSE(this->adapter_->publish("late", "1"));
}

}  // namespace
}  // namespace cablecast::pubsub::contract
