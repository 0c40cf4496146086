// RedisxConsumer against a real redis-server (scripts/with-services.sh; without
// CABLECAST_TEST_REDIS_URL these cases fail, never skip). The test's side XADDs exactly what
// anycable-rails' redisx adapter sends: `XADD <stream> * payload <publication json>`. Each case
// has its own stream name.
#include "broker/redisx_consumer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <mutex>
#include <thread>

#include "loop_thread.hpp"
#include "pubsub/redis/redis_error.hpp"
#include "redis_test_case.hpp"
#include "redis_test_server.hpp"

namespace cablecast::broker {
namespace {

using namespace std::chrono_literals;
using pubsub::redis::RedisEndpoint;
using testing::eventually;
using testing::RawRedis;
using testing::unique;

// One consumer on its own broker loop, recording the payloads it was handed.
struct Consumer : cablecast::testing::LoopThread {
  std::mutex mutex;
  std::vector<std::string> payloads;
  RedisxConsumer consumer;

  Consumer(const RedisEndpoint& endpoint, RedisxOptions options)
      : consumer(io, endpoint, std::move(options), [this](std::string_view payload) {
          EXPECT_TRUE(io.get_executor().running_in_this_thread()) << "on the broker loop";
          std::lock_guard lock(mutex);
          payloads.emplace_back(payload);
        }) {}
  ~Consumer() {
    consumer.stop();
    join();
  }
  std::vector<std::string> received() {
    std::lock_guard lock(mutex);
    return payloads;
  }
  std::size_t count() { return received().size(); }
};

struct RedisxConsumerTest : cablecast::testing::RedisTestCase {
  void TearDown() override {
    if (raw) raw->command({"DEL", stream});
  }
  RedisxOptions options() const {
    RedisxOptions o;
    o.stream = stream;
    o.block = 200ms;  // stop() waits for the read in progress
    return o;
  }
  std::string add(const std::string& payload) {
    return raw->command({"XADD", stream, "*", "payload", payload});
  }
  // XPENDING's summary count: entries read by some consumer and not acknowledged.
  std::string pending() {
    std::string summary = raw->command({"XPENDING", stream, "bx"});
    return summary.substr(0, summary.find('\n'));
  }
  std::string consumers() { return raw->command({"XINFO", "CONSUMERS", stream, "bx"}); }

  std::string stream = unique("__anycable__test");
};

TEST_F(RedisxConsumerTest, TwoConsumersDeliverEachPublicationExactlyOnce) {
  Consumer a(endpoint, options()), b(endpoint, options());
  ASSERT_TRUE(a.consumer.start());
  ASSERT_TRUE(b.consumer.start());
  EXPECT_NE(a.consumer.consumer_name(), b.consumer.consumer_name());
  constexpr int kCount = 100;
  for (int i = 0; i < kCount; ++i) {
    add(R"({"stream":"s","data":")" + std::to_string(i) + "\"}");
  }
  ASSERT_TRUE(eventually([&] { return a.count() + b.count() >= kCount; }, 10s));
  // Fenced by a later publication: once it arrived, nothing of the first 100 is still coming.
  add("fence");
  ASSERT_TRUE(eventually([&] { return a.count() + b.count() == kCount + 1; }, 10s));

  std::map<std::string, int> seen;
  for (auto* consumer : {&a, &b}) {
    for (const auto& payload : consumer->received()) ++seen[payload];
  }
  ASSERT_EQ(seen.size(), kCount + 1u);
  for (const auto& [payload, times] : seen) EXPECT_EQ(times, 1) << payload;
  EXPECT_EQ(a.consumer.counters().delivered + b.consumer.counters().delivered, kCount + 1u);
  // Acknowledged and deleted: the stream does not grow with what was delivered.
  EXPECT_TRUE(eventually([&] { return raw->command({"XLEN", stream}) == "0"; }));
  EXPECT_EQ(pending(), "0");
}

TEST_F(RedisxConsumerTest, EntriesLeftPendingByADeadConsumerAreClaimed) {
  raw->command({"XGROUP", "CREATE", stream, "bx", "$", "MKSTREAM"});
  add("orphan");
  // A consumer that read the entry and died before acknowledging it.
  ASSERT_NE(
      raw->command({"XREADGROUP", "GROUP", "bx", "dead", "COUNT", "1", "STREAMS", stream, ">"}),
      "(nil)");
  ASSERT_EQ(pending(), "1");

  auto o = options();
  o.claim_after = 100ms;
  Consumer live(endpoint, o);
  ASSERT_TRUE(live.consumer.start());
  ASSERT_TRUE(eventually([&] { return live.count() == 1; }));
  EXPECT_EQ(live.received()[0], "orphan");
  EXPECT_EQ(live.consumer.counters().claimed, 1u);
  EXPECT_TRUE(eventually([&] { return pending() == "0"; }));
  add("later");  // and the claimed one is not delivered again meanwhile
  ASSERT_TRUE(eventually([&] { return live.count() == 2; }));
  EXPECT_EQ(live.received()[1], "later");
}

TEST_F(RedisxConsumerTest, StopLeavesTheGroupWhenNothingIsPending) {
  Consumer c(endpoint, options());
  ASSERT_TRUE(c.consumer.start());
  add("one");
  ASSERT_TRUE(eventually([&] { return c.count() == 1; }));
  ASSERT_TRUE(eventually(
      [&] { return consumers().find(c.consumer.consumer_name()) != std::string::npos; }));
  c.consumer.stop();
  EXPECT_EQ(consumers().find(c.consumer.consumer_name()), std::string::npos);
  EXPECT_EQ(pending(), "0");
}

TEST_F(RedisxConsumerTest, ReconnectsAfterTheConnectionIsKilledAndReadsOn) {
  Consumer c(endpoint, options());
  ASSERT_TRUE(c.consumer.start());
  ASSERT_EQ(raw->kill_clients("cablecast-redisx-" + c.consumer.consumer_name()), 1);
  ASSERT_TRUE(eventually([&] { return c.consumer.counters().reconnects == 1; }));
  add("after");
  ASSERT_TRUE(eventually([&] { return c.count() == 1; }));
  EXPECT_EQ(c.received()[0], "after");
}

TEST_F(RedisxConsumerTest, TheGroupIsCreatedAgainWhenTheStreamWasDeleted) {
  Consumer c(endpoint, options());
  ASSERT_TRUE(c.consumer.start());
  raw->command({"DEL", stream});
  ASSERT_TRUE(eventually([&] {
    return raw->command({"EXISTS", stream}) == "1";
  })) << "MKSTREAM again after NOGROUP";
  add("again");
  ASSERT_TRUE(eventually([&] { return c.count() == 1; }));
  EXPECT_EQ(c.received()[0], "again");
}

TEST_F(RedisxConsumerTest, StartFailsWhenTheKeyIsNotAStream) {
  raw->command({"SET", stream, "not a stream"});
  Consumer c(endpoint, options());
  auto started = c.consumer.start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error(), make_error_code(pubsub::redis::RedisError::server_error));
}

}  // namespace
}  // namespace cablecast::broker
