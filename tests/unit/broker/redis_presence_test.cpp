// RedisPresence against a real redis-server (scripts/with-services.sh; without
// CABLECAST_TEST_REDIS_URL every case fails, never skips). Each case has its own key prefix and
// client name; "nodes" are RedisPresence objects with their own broker loop and connection.
// Expiry is real (ttl 1 s): cases wait for the event, with generous timeouts, never for a time.
#include "broker/redis_presence.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "loop_thread.hpp"
#include "pubsub/redis/redis_error.hpp"
#include "redis_test_case.hpp"
#include "redis_test_server.hpp"

namespace cablecast::broker {
namespace {

using namespace std::chrono_literals;
using cablecast::testing::eventually;
using cablecast::testing::RawRedis;
using cablecast::testing::unique;
using Kind = PresenceEvent::Kind;

// Every node's events, in one list ("<node> join|leave <stream> <id> <info>"), so a case sees
// both that an event came and which node produced it, and how often.
struct EventLog {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> events;

  void add(const std::string& node, const PresenceEvent& e) {
    std::lock_guard lock(mutex);
    events.push_back(node + (e.kind == Kind::join ? " join " : " leave ") + e.stream + " " +
                     e.member.id + " " + e.member.info);
    changed.notify_all();
  }
  // Waits until an event ending with `tail` ("join room 42 null") is logged; returns it.
  std::string wait_for(const std::string& tail, std::chrono::seconds timeout = 15s) {
    std::unique_lock lock(mutex);
    std::string found;
    changed.wait_for(lock, timeout, [&] {
      for (const auto& e : events) {
        if (e.size() >= tail.size() && e.ends_with(" " + tail)) found = e;
      }
      return !found.empty();
    });
    return found;
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return events.size();
  }
  // How many logged events end with `tail`, on any node.
  std::size_t count(const std::string& tail) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& e : events) n += e.ends_with(" " + tail);
    return n;
  }
};

// One node: a broker loop of its own and a RedisPresence on it.
struct PresenceNode : cablecast::testing::LoopThread {
  RedisPresence presence;

  PresenceNode(std::string name, RedisPresenceOptions options, EventLog& log)
      : presence(io, std::move(options)) {
    presence.start([name, &log](PresenceEvent e) { log.add(name, e); });
  }
  ~PresenceNode() {
    presence.stop();
    join();
  }
  boost::system::result<std::vector<PresenceMember>> members(const std::string& stream) {
    auto answer =
        std::make_shared<std::promise<boost::system::result<std::vector<PresenceMember>>>>();
    auto future = answer->get_future();
    presence.members(stream, io.get_executor(),
                     [answer](auto result) { answer->set_value(std::move(result)); });
    if (future.wait_for(10s) != std::future_status::ready) {
      return make_error_code(pubsub::redis::RedisError::timed_out);
    }
    return future.get();
  }
  // "id=info,..." sorted by id, or "error: ..." .
  std::string member_list(const std::string& stream) {
    auto found = members(stream);
    if (!found) return "error: " + found.error().message();
    std::string out;
    for (const auto& m : *found) out += (out.empty() ? "" : ",") + m.id + "=" + m.info;
    return out;
  }
};

struct RedisPresenceTest : cablecast::testing::RedisTestCase {
  RedisPresenceOptions options() {
    RedisPresenceOptions o;
    o.endpoint = endpoint;
    o.prefix = prefix;
    o.connection.client_name = client_name;
    o.presence.ttl = 1s;
    o.sweep_interval = 200ms;
    return o;
  }
  std::unique_ptr<PresenceNode> node(const std::string& name, RedisPresenceOptions o) {
    return std::make_unique<PresenceNode>(name, std::move(o), log);
  }
  // Entries of every stream in Redis (live and expiring): how many, and which.
  std::string entry_count() { return raw->command({"ZCARD", prefix + "presence:entries"}); }
  std::string entries() { return raw->command({"ZRANGE", prefix + "presence:entries", "0", "-1"}); }

  std::string prefix = unique("test") + ":";
  std::string client_name = unique("cablecast-presence-test-");
  EventLog log;
};

TEST_F(RedisPresenceTest, OneIdFromTwoSessionsIsOneMemberAndJoinsOnce) {
  auto a = node("a", options());
  a->presence.join("room", "tab1", {"42", R"({"name":"Ann"})"});
  a->presence.join("room", "tab2", {"42", R"({"name":"Ann B."})"});
  a->presence.join("room", "tab3", {"7", "null"});  // later, on the same connection: a fence
  ASSERT_EQ(log.wait_for("join room 7 null"), "a join room 7 null");
  EXPECT_EQ(log.count(R"(join room 42 {"name":"Ann"})"), 1u);
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(a->member_list("room"), R"(42={"name":"Ann B."},7=null)");
}

TEST_F(RedisPresenceTest, LeaveComesOnceAfterTheLastSessionAndAtOnceWhenExplicit) {
  auto a = node("a", options());
  a->presence.join("room", "tab1", {"42", "null"});
  a->presence.join("room", "tab2", {"42", "null"});
  a->presence.leave("room", "tab1");
  a->presence.join("room", "fence", {"7", "null"});
  ASSERT_FALSE(log.wait_for("join room 7 null").empty());
  EXPECT_EQ(log.count("leave room 42 null"), 0u) << "still joined from tab2";
  EXPECT_EQ(a->member_list("room"), "42=null,7=null");

  a->presence.leave("room", "tab2");
  a->presence.leave("room", "tab2");  // unknown by now: ignored
  ASSERT_EQ(log.wait_for("leave room 42 null"), "a leave room 42 null");
  EXPECT_EQ(a->member_list("room"), "7=null");
  a->presence.leave("room", "fence");
  ASSERT_FALSE(log.wait_for("leave room 7 null").empty());
  EXPECT_EQ(log.count("leave room 42 null"), 1u);
  EXPECT_EQ(entry_count(), "0") << "nothing left in Redis";
  EXPECT_EQ(raw->command({"KEYS", prefix + "*"}), "");
}

TEST_F(RedisPresenceTest, TwoNodesAgreeOnMembersAndEachEventComesOnce) {
  auto a = node("a", options());
  auto b = node("b", options());
  a->presence.join("room", "sa", {"42", "1"});
  ASSERT_EQ(log.wait_for("join room 42 1"), "a join room 42 1");
  b->presence.join("room", "sb", {"42", "2"});
  ASSERT_TRUE(eventually([&] { return a->member_list("room") == "42=2"; }));
  EXPECT_EQ(b->member_list("room"), "42=2");

  a->presence.leave("room", "sa");
  b->presence.join("room", "fence-b", {"7", "null"});
  a->presence.join("room", "fence-a", {"8", "null"});
  ASSERT_FALSE(log.wait_for("join room 7 null").empty());
  ASSERT_FALSE(log.wait_for("join room 8 null").empty());
  EXPECT_EQ(log.count("leave room 42 null"), 0u) << "still joined on b";

  b->presence.leave("room", "sb");
  ASSERT_EQ(log.wait_for("leave room 42 null"), "b leave room 42 null");
  EXPECT_EQ(a->member_list("room"), "7=null,8=null");
  EXPECT_EQ(b->member_list("room"), "7=null,8=null");
  EXPECT_EQ(log.count("join room 42 1") + log.count("join room 42 2"), 1u);
  EXPECT_EQ(log.count("leave room 42 null"), 1u);
}

TEST_F(RedisPresenceTest, AnExpiredSessionLeavesAfterTheTtlOnce) {
  auto a = node("a", options());
  auto b = node("b", options());  // sweeps too: still one leave
  a->presence.join("room", "tab1", {"42", "null"});
  ASSERT_FALSE(log.wait_for("join room 42 null").empty());
  a->presence.expire("room", "tab1");
  ASSERT_FALSE(log.wait_for("leave room 42 null").empty());
  EXPECT_EQ(a->member_list("room"), "");
  // Both nodes go on sweeping; a fence on each shows no second leave came meanwhile.
  a->presence.join("room", "fa", {"8", "null"});
  b->presence.join("room", "fb", {"9", "null"});
  ASSERT_FALSE(log.wait_for("join room 8 null").empty());
  ASSERT_FALSE(log.wait_for("join room 9 null").empty());
  EXPECT_EQ(log.count("leave room 42 null"), 1u);
}

TEST_F(RedisPresenceTest, AnExpiredSessionDoesNotEndAnIdThatJoinedAgainFromAnotherSession) {
  auto a = node("a", options());
  auto b = node("b", options());
  a->presence.join("room", "old-tab", {"42", "null"});
  ASSERT_FALSE(log.wait_for("join room 42 null").empty());
  a->presence.expire("room", "old-tab");
  b->presence.join("room", "new-tab", {"42", "null"});  // reconnected to the other node
  // Wait until a sweep removed old-tab's entry; then a fence on each node: their sweeps'
  // answers came before the fences' answers, so any leave would be logged by now.
  ASSERT_TRUE(eventually([&] { return entries() == "4:room2:42new-tab"; }, 15s)) << entries();
  a->presence.join("room", "fa", {"8", "null"});
  b->presence.join("room", "fb", {"9", "null"});
  ASSERT_FALSE(log.wait_for("join room 8 null").empty());
  ASSERT_FALSE(log.wait_for("join room 9 null").empty());
  EXPECT_EQ(log.count("leave room 42 null"), 0u);
  EXPECT_EQ(log.count("join room 42 null"), 1u);
  EXPECT_EQ(a->member_list("room"), "42=null,8=null,9=null");
}

TEST_F(RedisPresenceTest, LiveSessionsAreRefreshedSoTheyOutliveTheTtl) {
  auto a = node("a", options());
  a->presence.join("room", "live", {"42", "null"});
  a->presence.join("room", "closing", {"7", "null"});
  a->presence.expire("room", "closing");
  // 7's entry ends one ttl after the expire; 42's, joined earlier, would have ended by then
  // too if it were not refreshed.
  ASSERT_FALSE(log.wait_for("leave room 7 null").empty());
  // A fence: the sweep that removed 7 answered before this join does, with all its leaves.
  a->presence.join("room", "fence", {"8", "null"});
  ASSERT_FALSE(log.wait_for("join room 8 null").empty());
  EXPECT_EQ(log.count("leave room 42 null"), 0u);
  EXPECT_EQ(a->member_list("room"), "42=null,8=null");
}

TEST_F(RedisPresenceTest, ADeadNodesMembersLeaveAfterTheTtlSeenByAnotherNode) {
  auto b = node("b", options());
  auto a = node("a", options());
  a->presence.join("room", "tab1", {"42", "null"});
  ASSERT_EQ(log.wait_for("join room 42 null"), "a join room 42 null");
  // As SIGKILL would: a stops refreshing and its connection goes, no leave is sent.
  a.reset();
  ASSERT_EQ(log.wait_for("leave room 42 null"), "b leave room 42 null");
  EXPECT_EQ(b->member_list("room"), "");
}

TEST_F(RedisPresenceTest, WhileRedisIsUnreachableMembersFailsAndChangesWaitUntilItIsBack) {
  auto o = options();
  o.connection.first_retry = 1500ms;  // a window in which the connection is known down
  auto a = node("a", o);
  a->presence.join("room", "tab1", {"42", "null"});
  ASSERT_FALSE(log.wait_for("join room 42 null").empty());

  ASSERT_EQ(raw->kill_clients(client_name), 1);
  ASSERT_TRUE(eventually([&] { return a->member_list("room").starts_with("error"); }, 5s));
  EXPECT_EQ(a->members("room").error(), make_error_code(pubsub::redis::RedisError::not_connected));
  a->presence.join("room", "tab2", {"7", "null"});
  a->presence.leave("room", "tab1");
  ASSERT_FALSE(log.wait_for("join room 7 null").empty());
  ASSERT_FALSE(log.wait_for("leave room 42 null").empty());
  EXPECT_EQ(a->member_list("room"), "7=null");
}

TEST_F(RedisPresenceTest, LiveSessionsLostByRedisAreAddedAgainByTheRefresh) {
  auto a = node("a", options());
  a->presence.join("room", "tab1", {"42", "null"});
  ASSERT_FALSE(log.wait_for("join room 42 null").empty());
  // As a Redis restart without persistence would.
  raw->command({"DEL", prefix + "presence:entries", prefix + "presence:sessions:room",
                prefix + "presence:info:room"});
  ASSERT_TRUE(eventually([&] { return log.count("join room 42 null") == 2; }, 10s));
  EXPECT_EQ(a->member_list("room"), "42=null");
}

TEST_F(RedisPresenceTest, ASessionJoiningAsAnotherIdLeavesAsTheFirst) {
  auto a = node("a", options());
  a->presence.join("room", "tab1", {"guest", "null"});
  a->presence.join("room", "tab1", {"42", "null"});
  ASSERT_FALSE(log.wait_for("join room 42 null").empty());
  ASSERT_FALSE(log.wait_for("leave room guest null").empty());
  EXPECT_EQ(a->member_list("room"), "42=null");
}

TEST_F(RedisPresenceTest, NamesWithAnyBytesAreKeptApart) {
  auto a = node("a", options());
  const std::string stream =
      "a:1\x1F"
      "b";
  a->presence.join(stream, "tab1", {"4:2", "null"});
  a->presence.join(stream, "tab2", {"4", "null"});
  a->presence.expire(stream, "tab1");
  ASSERT_FALSE(log.wait_for("leave " + stream + " 4:2 null").empty());
  EXPECT_EQ(a->member_list(stream), "4=null");
}

}  // namespace
}  // namespace cablecast::broker
