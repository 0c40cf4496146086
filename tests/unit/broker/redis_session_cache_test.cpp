// RedisSessionCache against a real redis-server (scripts/with-services.sh; without
// CABLECAST_TEST_REDIS_URL every case fails, never skips). Two objects stand for two nodes.
#include "broker/redis_session_cache.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "loop_thread.hpp"
#include "redis_test_case.hpp"
#include "redis_test_server.hpp"

namespace cablecast::broker {
namespace {

using namespace std::chrono_literals;
using cablecast::testing::eventually;
using cablecast::testing::RawRedis;
using cablecast::testing::unique;

struct CacheNode : cablecast::testing::LoopThread {
  RedisSessionCache cache;

  explicit CacheNode(RedisSessionCacheOptions options) : cache(io, std::move(options)) {}
  ~CacheNode() {
    cache.stop();
    join();
  }
  std::optional<std::string> take(const std::string& sid) {
    auto answer = std::make_shared<std::promise<std::optional<std::string>>>();
    auto future = answer->get_future();
    cache.take(sid, io.get_executor(), [answer](auto state) { answer->set_value(state); });
    if (future.wait_for(10s) != std::future_status::ready) return "(no answer)";
    return future.get();
  }
};

struct RedisSessionCacheTest : cablecast::testing::RedisTestCase {
  RedisSessionCacheOptions options() {
    RedisSessionCacheOptions o;
    o.endpoint = endpoint;
    o.prefix = prefix;
    o.connection.client_name = client_name;
    return o;
  }
  bool stored(const std::string& sid) {
    return raw->command({"EXISTS", prefix + "session:" + sid}) == "1";
  }

  std::string prefix = unique("test") + ":";
  std::string client_name = unique("cablecast-sessions-test-");
};

TEST_F(RedisSessionCacheTest, AStateSavedOnOneNodeIsTakenOnceOnAnother) {
  CacheNode a(options()), b(options());
  a.cache.save("sid1", R"({"ids":"1"})", 300s);
  ASSERT_TRUE(eventually([&] { return stored("sid1"); }));
  EXPECT_EQ(b.take("sid1"), R"({"ids":"1"})");
  EXPECT_EQ(a.take("sid1"), std::nullopt) << "taken once";
  EXPECT_EQ(b.take("sid1"), std::nullopt);
}

TEST_F(RedisSessionCacheTest, ATakeMadeBeforeTheConnectionIsUpWaitsForIt) {
  // A node that has just started is asked to restore a session another node saved: the take
  // reaches the cache before its connection to Redis is up, and must still find the state.
  ASSERT_EQ(raw->command({"SET", prefix + "session:sid1", "saved elsewhere", "EX", "300"}), "OK");
  CacheNode fresh(options());
  EXPECT_EQ(fresh.take("sid1"), "saved elsewhere");
  EXPECT_FALSE(stored("sid1")) << "taken";
}

TEST_F(RedisSessionCacheTest, TheStateIsKeptForItsTtl) {
  CacheNode a(options());
  a.cache.save("sid1", "state", 300s);
  ASSERT_TRUE(eventually([&] { return stored("sid1"); }));
  auto ttl = std::stoi(raw->command({"TTL", prefix + "session:sid1"}));
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 300);
}

TEST_F(RedisSessionCacheTest, AStatePastItsTtlIsGone) {
  CacheNode a(options());
  a.cache.save("sid1", "state", 1s);
  ASSERT_TRUE(eventually([&] { return stored("sid1"); }));
  ASSERT_TRUE(eventually([&] { return !stored("sid1"); }, 10s));
  EXPECT_EQ(a.take("sid1"), std::nullopt);
}

TEST_F(RedisSessionCacheTest, SavingAgainReplacesTheState) {
  CacheNode a(options());
  a.cache.save("sid1", "first", 300s);
  ASSERT_TRUE(eventually([&] { return stored("sid1"); }));
  a.cache.save("sid1", "second", 300s);
  // The same connection: the second save reaches Redis before the take.
  EXPECT_EQ(a.take("sid1"), "second");
}

TEST_F(RedisSessionCacheTest, WhileRedisIsUnreachableTakeAnswersNothingAndSavesWait) {
  auto o = options();
  o.connection.first_retry = 3000ms;  // a window in which the connection is known down
  o.take_wait = 200ms;                // shorter than that window
  CacheNode a(o);
  a.cache.save("kept", "state", 300s);
  ASSERT_TRUE(eventually([&] { return stored("kept"); }));

  ASSERT_EQ(raw->kill_clients(client_name), 1);
  EXPECT_EQ(a.take("kept"), std::nullopt)
      << "down (or the reply was lost): nothing after take_wait";
  a.cache.save("while-down", "later", 300s);
  ASSERT_TRUE(eventually([&] { return stored("while-down"); }, 10s)) << "sent once back";
  ASSERT_TRUE(eventually([&] { return a.take("kept") == "state"; }, 10s));
}

}  // namespace
}  // namespace cablecast::broker
