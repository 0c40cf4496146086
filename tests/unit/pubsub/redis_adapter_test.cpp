// What is Redis' own in the Redis adapter (the wire Rails speaks, credentials, connection loss);
// what every adapter does is in adapter_contract_test.cpp. Against a real redis-server:
// scripts/with-services.sh starts one and exports CABLECAST_TEST_REDIS_URL. Without it every case
// here fails (never skips). Each case uses its own channel prefix and client name, so cases may run
// in parallel on one server; the test's side of the wire is a plain blocking hiredis connection
// speaking exactly what Rails sends.
#include "pubsub/redis/redis_adapter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "loop_thread.hpp"
#include "pubsub/redis/redis_error.hpp"
#include "redis_test_case.hpp"
#include "redis_test_server.hpp"

namespace cablecast::pubsub::redis {
namespace {

using namespace std::chrono_literals;
using boost::system::error_code;

using cablecast::testing::eventually;
using cablecast::testing::RawRedis;
using cablecast::testing::unique;

// One adapter on its own broker loop, recording what it delivers.
struct Node : cablecast::testing::LoopThread {
  RedisAdapter adapter;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<std::string, std::string>> received;

  explicit Node(RedisAdapterOptions options) : adapter(std::move(options)) {}
  ~Node() {
    adapter.stop();
    join();
  }
  boost::system::result<void> start() {
    return adapter.start(
        [this](std::string_view stream, Payload payload) {
          std::lock_guard lock(mutex);
          received.emplace_back(stream, *payload);
          changed.notify_all();
        },
        io);
  }
  bool wait_received(std::size_t count, std::chrono::milliseconds timeout = 3s) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return received.size() >= count; });
  }
  // Subscribes and waits for the ready callback; returns how often it ran (must be 1).
  error_code subscribe_and_wait(const std::string& stream, std::atomic<int>* calls = nullptr) {
    auto done = std::make_shared<std::promise<error_code>>();
    auto future = done->get_future();
    adapter.subscribe(stream, [done, calls](error_code ec) {
      if (calls) ++*calls;
      if (!calls || *calls == 1) done->set_value(ec);
    });
    if (future.wait_for(3s) != std::future_status::ready) {
      return make_error_code(RedisError::timed_out);
    }
    return future.get();
  }
};

struct RedisAdapterTest : cablecast::testing::RedisTestCase {
  RedisAdapterOptions options() {
    RedisAdapterOptions o;
    o.endpoint = endpoint;
    o.channel_prefix = prefix;
    o.client_name = client_name;
    return o;
  }
  std::string numsub(const std::string& channel) {
    std::string reply = raw->command({"PUBSUB", "NUMSUB", channel});
    return reply.substr(reply.find('\n') + 1);
  }
  // Kills this test's adapter connections (by their CLIENT SETNAME), as a broker restart would.
  int kill_connections() { return raw->kill_clients(client_name); }

  std::string prefix = unique("test");
  std::string client_name = unique("cablecast-test-");
};

TEST_F(RedisAdapterTest, StartReportsRefusedCredentials) {
  auto o = options();
  o.endpoint.password = "not-the-password";  // the test server has none: AUTH is refused
  Node node(o);
  auto started = node.start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error(), make_error_code(RedisError::auth_failed));
}

TEST_F(RedisAdapterTest, StartReportsADatabaseOutOfRange) {
  auto o = options();
  o.endpoint.db = 999999;
  Node node(o);
  auto started = node.start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error(), make_error_code(RedisError::select_failed));
}

TEST_F(RedisAdapterTest, ConnectionsAreNamedAndListenOnTheInternalChannel) {
  Node node(options());
  ASSERT_TRUE(node.start());
  std::string list = raw->command({"CLIENT", "LIST"});
  std::size_t named = 0;
  for (std::size_t at = 0; (at = list.find("name=" + client_name + " ", at)) != std::string::npos;
       ++at) {
    ++named;
  }
  EXPECT_EQ(named, 2u);  // listener + publisher, as Rails
  EXPECT_NE(std::stoi(numsub("_action_cable_internal")), 0);
}

TEST_F(RedisAdapterTest, ARawChannelIsSubscribedByItsOwnNameAndAgainAfterALoss) {
  const std::string channel = unique("__anycable__");  // anycable-rails: no channel prefix
  Node node(options());
  std::mutex mutex;
  std::vector<std::string> raw_messages;
  ASSERT_TRUE(node.adapter.listen_raw_channel(channel, [&](std::string_view message) {
    std::lock_guard lock(mutex);
    raw_messages.emplace_back(message);
  }));
  ASSERT_TRUE(node.start());
  // start() returned: Redis already has the subscription, so this PUBLISH cannot be missed.
  EXPECT_EQ(numsub(channel), "1");
  EXPECT_EQ(raw->command({"PUBLISH", channel, R"({"stream":"s","data":"1"})"}), "1");
  auto got = [&](std::size_t n) {
    return eventually([&] {
      std::lock_guard lock(mutex);
      return raw_messages.size() >= n;
    });
  };
  ASSERT_TRUE(got(1));
  EXPECT_EQ(raw_messages[0], R"({"stream":"s","data":"1"})");

  EXPECT_EQ(kill_connections(), 2);
  ASSERT_TRUE(eventually([&] { return numsub(channel) == "1"; })) << "resubscribed";
  EXPECT_EQ(raw->command({"PUBLISH", channel, "again"}), "1");
  ASSERT_TRUE(got(2));
  EXPECT_EQ(raw_messages[1], "again");
  std::lock_guard lock(node.mutex);
  EXPECT_TRUE(node.received.empty()) << "never delivered as a stream";
}

TEST_F(RedisAdapterTest, ReceivesWhatRailsPublishesOnThePrefixedChannel) {
  Node node(options());
  ASSERT_TRUE(node.start());
  ASSERT_FALSE(node.subscribe_and_wait("chat_1"));
  // Ready means Redis has the subscription: a PUBLISH right now must arrive.
  EXPECT_EQ(numsub(prefix + ":chat_1"), "1");
  EXPECT_EQ(raw->command({"PUBLISH", prefix + ":chat_1", R"({"text":"hi"})"}), "1");
  EXPECT_EQ(raw->command({"PUBLISH", "other:chat_1", "ignored"}), "0");
  ASSERT_TRUE(node.wait_received(1));
  EXPECT_EQ(node.received[0], (std::pair<std::string, std::string>{"chat_1", R"({"text":"hi"})"}));
  EXPECT_EQ(node.adapter.counters().received, 1u);
}

TEST_F(RedisAdapterTest, PublishesOnThePrefixedChannelWithThePayloadVerbatim) {
  Node node(options());
  ASSERT_TRUE(node.start());
  RawRedis listener(endpoint);
  ASSERT_EQ(listener.command({"SUBSCRIBE", prefix + ":room"}), "subscribe\n" + prefix + ":room\n1");
  std::string payload = "{\"a\":\"\\u00e9\xc3\xa9\",\"b\":[1,2]}";
  ASSERT_TRUE(node.adapter.publish("room", payload));
  EXPECT_EQ(listener.next_push(), "message\n" + prefix + ":room\n" + payload);
  EXPECT_TRUE(eventually([&] { return node.adapter.counters().published == 1; }));
}

TEST_F(RedisAdapterTest, OneSubscribePerStreamAndUnsubscribeOnlyWithTheLastReference) {
  Node node(options());
  ASSERT_TRUE(node.start());
  ASSERT_FALSE(node.subscribe_and_wait("s"));
  ASSERT_FALSE(node.subscribe_and_wait("s"));  // a second shard: ready at once
  EXPECT_EQ(numsub(prefix + ":s"), "1");
  node.adapter.unsubscribe("s");
  // A later SUBSCRIBE on the same connection: once it is acknowledged, an UNSUBSCRIBE of "s" sent
  // before it would have been too.
  ASSERT_FALSE(node.subscribe_and_wait("fence"));
  EXPECT_EQ(numsub(prefix + ":s"), "1");
  node.adapter.unsubscribe("s");
  EXPECT_TRUE(eventually([&] { return numsub(prefix + ":s") == "0"; }));
}

TEST_F(RedisAdapterTest, TwoAdaptersExchangeBroadcastsInOrder) {
  Node a(options()), b(options());
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(b.start());
  ASSERT_FALSE(a.subscribe_and_wait("n"));
  constexpr int kCount = 2000;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(b.adapter.publish("n", std::to_string(i)));
  ASSERT_TRUE(a.wait_received(kCount, 10s)) << a.received.size();
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(a.received[i].second, std::to_string(i));
}

TEST_F(RedisAdapterTest, ReconnectsResubscribesAndFailsPublishesWhileDown) {
  auto o = options();
  o.first_retry = 300ms;  // a window in which the publisher is known down
  Node node(o);
  ASSERT_TRUE(node.start());
  std::atomic<int> ready_calls{0};
  ASSERT_FALSE(node.subscribe_and_wait("s", &ready_calls));

  ASSERT_EQ(kill_connections(), 2);
  // Known down: publish fails at once and is counted.
  ASSERT_TRUE(eventually([&] { return !node.adapter.publish("s", "lost"); }, 2s));
  auto refused = node.adapter.publish("s", "lost");
  if (!refused) {
    EXPECT_EQ(refused.error(), make_error_code(RedisError::not_connected));
  }
  EXPECT_GE(node.adapter.counters().publish_failures, 1u);

  ASSERT_TRUE(eventually([&] { return node.adapter.counters().reconnects == 2; }));
  ASSERT_TRUE(eventually([&] { return numsub(prefix + ":s") == "1"; }));
  ASSERT_TRUE(eventually([&] { return node.adapter.publish("s", "after").has_value(); }));
  ASSERT_TRUE(node.wait_received(1));
  EXPECT_EQ(node.received.back().second, "after");
  EXPECT_EQ(ready_calls, 1);  // resubscription fires no duplicate ready callback
}

TEST_F(RedisAdapterTest, StopSendsWhatWasQueuedFirst) {
  RawRedis listener(endpoint);
  listener.command({"SUBSCRIBE", prefix + ":q"});
  {
    Node node(options());
    ASSERT_TRUE(node.start());
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(node.adapter.publish("q", std::to_string(i)));
    node.adapter.stop();
    EXPECT_EQ(node.adapter.counters().published, 500u);
    EXPECT_EQ(node.adapter.publish("q", "late").error(), make_error_code(RedisError::stopped));
  }
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(listener.next_push(), "message\n" + prefix + ":q\n" + std::to_string(i));
  }
}

TEST_F(RedisAdapterTest, ReadyCallbacksPendingAtStopAreDropped) {
  std::atomic<int> calls{0};
  {
    Node node(options());
    ASSERT_TRUE(node.start());
    node.adapter.stop();
    node.adapter.subscribe("late", [&](error_code) { ++calls; });
  }
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace cablecast::pubsub::redis
