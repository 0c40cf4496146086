// MemoryPresence with a clock the test moves: expiry is checked by calling sweep() at chosen
// times, so no case depends on how fast the machine is. One case runs the real timer.
#include "broker/memory_presence.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace cablecast::broker {
namespace {

using namespace std::chrono_literals;
using Kind = PresenceEvent::Kind;

// What the tests compare: kind, stream, id, info.
std::string describe(const PresenceEvent& e) {
  return std::string(e.kind == Kind::join ? "join " : "leave ") + e.stream + " " + e.member.id +
         " " + e.member.info;
}

struct MemoryPresenceTest : ::testing::Test {
  MemoryPresenceTest() {
    presence.start([this](PresenceEvent e) { events.push_back(describe(e)); });
  }

  std::vector<PresenceMember> members_of(const std::string& stream) {
    std::vector<PresenceMember> found;
    presence.members(stream, results.get_executor(), [&](auto result) {
      ASSERT_TRUE(result);
      found = std::move(*result);
    });
    results.restart();
    results.run();
    return found;
  }
  static std::string ids(const std::vector<PresenceMember>& members) {
    std::string out;
    for (const auto& m : members) out += (out.empty() ? "" : ",") + m.id + "=" + m.info;
    return out;
  }

  boost::asio::io_context timer_io;  // never run: the test sweeps
  boost::asio::io_context results;   // where members() answers
  std::chrono::steady_clock::time_point now{};
  MemoryPresence presence{timer_io, PresenceOptions{15s}, [this] { return now; }};
  std::vector<std::string> events;
};

TEST_F(MemoryPresenceTest, OneIdFromTwoSessionsIsOneMemberWithItsLatestInfoAndJoinsOnce) {
  presence.join("room", "tab1", {"42", R"({"name":"Ann"})"});
  presence.join("room", "tab2", {"42", R"({"name":"Ann B."})"});
  EXPECT_EQ(events, (std::vector<std::string>{R"(join room 42 {"name":"Ann"})"}));
  EXPECT_EQ(ids(members_of("room")), R"(42={"name":"Ann B."})");
}

TEST_F(MemoryPresenceTest, JoiningAgainFromTheSameSessionUpdatesTheInfoWithoutAnEvent) {
  presence.join("room", "tab1", {"42", "1"});
  presence.join("room", "tab1", {"42", "2"});
  EXPECT_EQ(events, (std::vector<std::string>{"join room 42 1"}));
  EXPECT_EQ(ids(members_of("room")), "42=2");
}

TEST_F(MemoryPresenceTest, LeaveComesOnceWhenTheLastSessionOfTheIdLeaves) {
  presence.join("room", "tab1", {"42", "null"});
  presence.join("room", "tab2", {"42", "null"});
  presence.leave("room", "tab1");
  EXPECT_EQ(events.size(), 1u) << "still joined from tab2";
  EXPECT_EQ(ids(members_of("room")), "42=null");
  presence.leave("room", "tab2");
  presence.leave("room", "tab2");  // again: unknown, ignored
  EXPECT_EQ(events, (std::vector<std::string>{"join room 42 null", "leave room 42 null"}));
  EXPECT_TRUE(members_of("room").empty());
  EXPECT_EQ(presence.stream_count(), 0u) << "nothing kept for an empty stream";
}

TEST_F(MemoryPresenceTest, StreamsAreIndependent) {
  presence.join("a", "tab1", {"42", "null"});
  presence.join("b", "tab1", {"42", "null"});
  presence.leave("a", "tab1");
  EXPECT_EQ(events,
            (std::vector<std::string>{"join a 42 null", "join b 42 null", "leave a 42 null"}));
  EXPECT_EQ(ids(members_of("b")), "42=null");
}

TEST_F(MemoryPresenceTest, AnExpiringSessionIsAMemberUntilItsTtlHasPassed) {
  presence.join("room", "tab1", {"42", "null"});
  presence.expire("room", "tab1");
  now += 14s;
  EXPECT_TRUE(presence.sweep()) << "still waiting";
  EXPECT_EQ(events.size(), 1u);
  EXPECT_EQ(ids(members_of("room")), "42=null");
  now += 1s;
  EXPECT_FALSE(presence.sweep()) << "nothing left to wait for";
  EXPECT_EQ(events, (std::vector<std::string>{"join room 42 null", "leave room 42 null"}));
  EXPECT_TRUE(members_of("room").empty());
}

TEST_F(MemoryPresenceTest, TheSameSessionJoiningAgainCancelsItsExpiry) {
  presence.join("room", "tab1", {"42", "null"});
  presence.expire("room", "tab1");
  presence.join("room", "tab1", {"42", "null"});  // the session was restored
  now += 60s;
  presence.sweep();
  EXPECT_EQ(events.size(), 1u);
  presence.leave("room", "tab1");
  EXPECT_EQ(events.back(), "leave room 42 null");
}

TEST_F(MemoryPresenceTest, AnExpiredSessionDoesNotEndAnIdStillJoinedFromAnotherSession) {
  presence.join("room", "old-tab", {"42", "null"});
  presence.expire("room", "old-tab");
  presence.join("room", "new-tab", {"42", "null"});  // reconnected with a new session
  now += 15s;
  presence.sweep();
  EXPECT_EQ(events, (std::vector<std::string>{"join room 42 null"}));
  EXPECT_EQ(ids(members_of("room")), "42=null");
  presence.leave("room", "new-tab");
  EXPECT_EQ(events.back(), "leave room 42 null");
}

TEST_F(MemoryPresenceTest, ASecondExpireDoesNotPostponeTheFirst) {
  presence.join("room", "tab1", {"42", "null"});
  presence.expire("room", "tab1");
  now += 10s;
  presence.expire("room", "tab1");
  now += 5s;
  presence.sweep();
  EXPECT_EQ(events.back(), "leave room 42 null");
}

TEST_F(MemoryPresenceTest, ASessionJoiningAsAnotherIdLeavesAsTheFirst) {
  presence.join("room", "tab1", {"guest", "null"});
  presence.join("room", "tab1", {"42", "null"});
  EXPECT_EQ(events, (std::vector<std::string>{"join room guest null", "leave room guest null",
                                              "join room 42 null"}));
  EXPECT_EQ(ids(members_of("room")), "42=null");
}

TEST_F(MemoryPresenceTest, UnknownSessionsAndStreamsAreIgnored) {
  presence.leave("nowhere", "tab1");
  presence.expire("nowhere", "tab1");
  presence.join("room", "tab1", {"42", "null"});
  presence.leave("room", "tab2");
  presence.expire("room", "tab2");
  now += 60s;
  presence.sweep();
  EXPECT_EQ(events, (std::vector<std::string>{"join room 42 null"}));
  EXPECT_TRUE(members_of("nowhere").empty());
}

TEST_F(MemoryPresenceTest, AfterStopNothingIsDecided) {
  presence.join("room", "tab1", {"42", "null"});
  presence.stop();
  presence.join("room", "tab2", {"7", "null"});
  presence.leave("room", "tab1");
  EXPECT_EQ(events, (std::vector<std::string>{"join room 42 null"}));
}

TEST(MemoryPresenceTimerTest, TheTimerEndsExpiredMembershipsByItself) {
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread thread([&] { io.run(); });
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> events;
  {
    MemoryPresence presence(io, PresenceOptions{1s});
    presence.start([&](PresenceEvent e) {
      std::lock_guard lock(mutex);
      events.push_back(describe(e));
      changed.notify_all();
    });
    presence.join("room", "tab1", {"42", "null"});
    presence.expire("room", "tab1");
    std::unique_lock lock(mutex);
    EXPECT_TRUE(changed.wait_for(lock, 10s, [&] { return events.size() == 2; }));
  }
  EXPECT_EQ(events, (std::vector<std::string>{"join room 42 null", "leave room 42 null"}));
  work.reset();
  thread.join();
}

}  // namespace
}  // namespace cablecast::broker
