// MemorySessionCache with a clock the test moves (sweep() called at chosen times); one case
// runs the real timer.
#include "broker/memory_session_cache.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <thread>

#include "redis_test_server.hpp"

namespace cablecast::broker {
namespace {

using namespace std::chrono_literals;

struct MemorySessionCacheTest : ::testing::Test {
  std::optional<std::string> take(const std::string& sid) {
    std::optional<std::string> found = "(no answer)";
    cache.take(sid, results.get_executor(), [&](std::optional<std::string> s) { found = s; });
    results.restart();
    results.run();
    return found;
  }

  boost::asio::io_context timer_io;  // never run: the test sweeps
  boost::asio::io_context results;   // where take() answers
  std::chrono::steady_clock::time_point now{};
  MemorySessionCache cache{timer_io, [this] { return now; }};
};

TEST_F(MemorySessionCacheTest, ASavedStateIsTakenOnce) {
  cache.save("sid1", R"({"ids":"1"})", 300s);
  EXPECT_EQ(take("sid1"), R"({"ids":"1"})");
  EXPECT_EQ(take("sid1"), std::nullopt);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(MemorySessionCacheTest, AnUnknownSidHasNothing) {
  cache.save("sid1", "state", 300s);
  EXPECT_EQ(take("sid2"), std::nullopt);
  EXPECT_EQ(take("sid1"), "state");
}

TEST_F(MemorySessionCacheTest, AStatePastItsTtlIsNotTakenEvenBeforeTheSweep) {
  cache.save("sid1", "state", 10s);
  now += 10s;
  EXPECT_EQ(take("sid1"), std::nullopt);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(MemorySessionCacheTest, TheSweepDropsExpiredStatesOnly) {
  cache.save("short", "a", 10s);
  cache.save("long", "b", 20s);
  now += 10s;
  EXPECT_TRUE(cache.sweep()) << "one is still kept";
  EXPECT_EQ(cache.size(), 1u);
  now += 10s;
  EXPECT_FALSE(cache.sweep());
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(MemorySessionCacheTest, SavingAgainReplacesTheStateAndItsTtl) {
  cache.save("sid1", "first", 10s);
  now += 5s;
  cache.save("sid1", "second", 10s);
  now += 7s;  // past the first ttl, within the second
  cache.sweep();
  EXPECT_EQ(take("sid1"), "second");
}

TEST(MemorySessionCacheTimerTest, TheTimerDropsExpiredStatesByItself) {
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread thread([&] { io.run(); });
  {
    MemorySessionCache cache(io);
    cache.save("sid1", "state", 1s);
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_TRUE(cablecast::testing::eventually([&] { return cache.size() == 0; }, 10s));
  }
  work.reset();
  thread.join();
}

}  // namespace
}  // namespace cablecast::broker
