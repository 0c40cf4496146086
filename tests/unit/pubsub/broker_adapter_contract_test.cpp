// What a broker adapter (Redis, PostgreSQL) promises beyond pubsub::Adapter's contract
// (adapter_contract_test.cpp): the broker carries only the streams this node subscribed to, and a
// broker that cannot be reached at start is waited for, not a start-up failure.
#include "adapter_contract.hpp"

namespace cablecast::pubsub::contract {
namespace {

template <typename Kind>
using BrokerAdapterContract = AdapterContract<Kind>;

using BrokerKinds = ::testing::Types<RedisKind, PostgresKind>;

TYPED_TEST_SUITE(BrokerAdapterContract, BrokerKinds, KindName);

TYPED_TEST(BrokerAdapterContract, AnUnsubscribedStreamIsNoLongerDelivered) {
  ASSERT_FALSE(this->subscribe("gone"));
  ASSERT_NO_FATAL_FAILURE(this->publish("gone", "before"));
  ASSERT_TRUE(this->delivered("gone", "before"));
  this->adapter_->unsubscribe("gone");
  // The fence's subscription follows the unsubscribe on the broker: once it is ready, the broker
  // has dropped "gone"; the fence's marker then follows "after".
  ASSERT_NO_FATAL_FAILURE(this->fence());
  ASSERT_NO_FATAL_FAILURE(this->publish("gone", "after"));
  ASSERT_NO_FATAL_FAILURE(this->fence());
  EXPECT_EQ(this->payloads("gone"), std::vector<std::string>{"before"});
}

TYPED_TEST(BrokerAdapterContract, NoBroadcastOfAStreamArrivesBeforeItsReadyCallback) {
  auto run = this->subscribe_while_publishing("live");
  ASSERT_NO_FATAL_FAILURE(this->fence());
  EXPECT_GT(run.last_sent, run.sent_at_ready);
  bool ready = false;
  for (const auto& event : this->log()) {
    if (event.stream != "live") continue;
    if (event.ready) ready = true;
    EXPECT_TRUE(ready) << "\"" << event.payload << "\" was delivered before the ready callback";
  }
}

TYPED_TEST(BrokerAdapterContract, StartServesWhileTheBrokerIsUnreachableAndRefusesBroadcasts) {
  // Not up yet is not a configuration error: start() returns and the adapter keeps trying.
  auto adapter = TypeParam::make_unreachable(this->prefix_);
  ASSERT_TRUE(adapter) << TypeParam::missing();
  ASSERT_TRUE(adapter->start([](std::string_view, Payload) {}, this->io_));
  auto health = adapter->health();
  EXPECT_FALSE(health.connected);
  EXPECT_NE(health.reason.find(TypeParam::kUnreachableReason), std::string::npos) << health.reason;
  EXPECT_EQ(adapter->publish("s", "1").error(), TypeParam::not_connected());
  adapter->stop();
}

}  // namespace
}  // namespace cablecast::pubsub::contract
