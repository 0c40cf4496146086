// /health and /ready as pure verdicts: the canary's bookkeeping and every reason to answer 503.
#include "server/health_state.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace cablecast::server {
namespace {

using namespace std::chrono_literals;

HealthClock::time_point at(std::chrono::milliseconds ms) { return HealthClock::time_point(ms); }

// A node that started, whose link is up and whose last canary came back over it.
HealthInputs healthy() {
  HealthInputs in;
  in.started = true;
  in.adapter_name = "redis";
  in.adapter = {true, "", 0};
  CanaryTracker tracker;
  tracker.set_subscribed(true);
  auto launch = tracker.launch(at(0ms), 0);
  tracker.returned(launch.sequence, at(3ms));
  in.canary = tracker.report();
  in.now = at(10ms);
  return in;
}

boost::json::object body_of(const HealthVerdict& verdict) {
  return boost::json::parse(verdict.body).as_object();
}

TEST(CanaryTracker, ACanaryThatComesBackRecordsItsRoundTrip) {
  CanaryTracker tracker;
  auto launch = tracker.launch(at(100ms), 0);
  EXPECT_FALSE(launch.previous_missed);
  EXPECT_TRUE(tracker.in_flight());
  EXPECT_TRUE(tracker.returned(launch.sequence, at(105ms)));
  EXPECT_FALSE(tracker.in_flight());
  EXPECT_EQ(tracker.report().returned, 1u);
  EXPECT_EQ(tracker.report().last_round_trip, std::chrono::microseconds(5000));
  EXPECT_FALSE(tracker.report().last_missed);
}

TEST(CanaryTracker, ACanaryStillOutWhenTheNextLeavesIsMissed) {
  CanaryTracker tracker;
  tracker.launch(at(0ms), 0);
  auto second = tracker.launch(at(2000ms), 0);
  EXPECT_TRUE(second.previous_missed);
  EXPECT_EQ(tracker.report().missed, 1u);
  EXPECT_TRUE(tracker.report().last_missed);
  // The next one coming back clears it.
  EXPECT_TRUE(tracker.returned(second.sequence, at(2001ms)));
  EXPECT_FALSE(tracker.report().last_missed);
}

TEST(CanaryTracker, ALateOrForeignCanaryChangesNothing) {
  CanaryTracker tracker;
  auto first = tracker.launch(at(0ms), 0);
  auto second = tracker.launch(at(2000ms), 0);
  EXPECT_FALSE(tracker.returned(first.sequence, at(2001ms)));  // too late: it was missed
  EXPECT_FALSE(tracker.returned(99, at(2001ms)));
  EXPECT_TRUE(tracker.in_flight());
  EXPECT_TRUE(tracker.returned(second.sequence, at(2002ms)));
  EXPECT_FALSE(tracker.returned(second.sequence, at(2003ms)));  // duplicated
  EXPECT_EQ(tracker.report().returned, 1u);
}

TEST(CanaryTracker, ACanaryOutWhileTheLinkWasReestablishedIsNotCountedAsMissed) {
  CanaryTracker tracker;
  tracker.launch(at(0ms), 0);
  // The adapter reconnected meanwhile: the new link is tested by the next canary; counting the
  // old one as missed would make the node reconnect a link that just came up.
  EXPECT_FALSE(tracker.launch(at(2000ms), 1).previous_missed);
  EXPECT_EQ(tracker.report().missed, 0u);
}

TEST(CanaryTracker, AnAbandonedCanaryIsNotCountedAsMissed) {
  CanaryTracker tracker;
  tracker.launch(at(0ms), 0);
  tracker.abandon();  // the link went down
  EXPECT_FALSE(tracker.in_flight());
  EXPECT_FALSE(tracker.launch(at(2000ms), 0).previous_missed);
}

TEST(CanaryTracker, AFailedPublishIsNotCountedAsMissedLater) {
  CanaryTracker tracker;
  tracker.launch(at(0ms), 0);
  tracker.publish_failed("not connected to Redis (reconnecting)");
  EXPECT_FALSE(tracker.in_flight());
  EXPECT_EQ(tracker.report().publish_error, "not connected to Redis (reconnecting)");
  EXPECT_FALSE(tracker.launch(at(2000ms), 0).previous_missed);
  EXPECT_TRUE(tracker.report().publish_error.empty());
}

TEST(Health, IsOkWhenTheLastCanaryCameBackOverTheCurrentLink) {
  auto verdict = judge_health(healthy());
  EXPECT_TRUE(verdict.ok) << verdict.reason;
  auto body = body_of(verdict);
  EXPECT_EQ(body.at("status"), "ok");
  EXPECT_FALSE(body.contains("reason"));
  EXPECT_EQ(body.at("pubsub").at("adapter"), "redis");
  EXPECT_EQ(body.at("canary").at("last_round_trip_ms").as_double(), 3.0);
  EXPECT_EQ(body.at("canary").at("last_returned_ms_ago").as_int64(), 7);
}

TEST(Health, FailsWithTheAdaptersReasonWhenTheLinkIsDown) {
  auto in = healthy();
  in.adapter = {false, "redis subscriber connection to 127.0.0.1:6379: lost", 1};
  auto verdict = judge_health(in);
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.reason, "pub/sub down: redis subscriber connection to 127.0.0.1:6379: lost");
  auto body = body_of(verdict);
  EXPECT_EQ(body.at("status"), "unhealthy");
  EXPECT_EQ(std::string_view(body.at("reason").as_string()), verdict.reason);
  EXPECT_EQ(body.at("pubsub").at("connected"), false);
}

TEST(Health, FailsWhenTheLastCanaryWasMissedEvenThoughTheLinkLooksUp) {
  auto in = healthy();
  in.canary.last_missed = true;
  auto verdict = judge_health(in);
  EXPECT_FALSE(verdict.ok);
  EXPECT_NE(verdict.reason.find("did not come back within 2000 ms"), std::string::npos);
}

TEST(Health, FailsAfterAReconnectUntilACanaryCameBackOverTheNewLink) {
  auto in = healthy();
  in.adapter.reconnects = 1;  // reconnected since the last canary was sent
  auto verdict = judge_health(in);
  EXPECT_FALSE(verdict.ok);
  EXPECT_NE(verdict.reason.find("reconnected"), std::string::npos);
  in.canary.reconnects_at_last_return = 1;
  EXPECT_TRUE(judge_health(in).ok);
}

TEST(Health, FailsUntilTheFirstCanaryCameBack) {
  auto in = healthy();
  in.canary = {};
  EXPECT_NE(judge_health(in).reason.find("waiting for the broker"), std::string::npos);
  in.canary.subscribed = true;
  EXPECT_NE(judge_health(in).reason.find("first canary"), std::string::npos);
}

TEST(Health, FailsWhenTheConfiguredRpcBackendIsUnreachable) {
  auto in = healthy();
  in.rpc = RpcProbeReport{"127.0.0.1:3000", true, false, "Connection refused"};
  auto verdict = judge_health(in);
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.reason, "rpc backend 127.0.0.1:3000 unreachable: Connection refused");
  EXPECT_EQ(body_of(verdict).at("rpc").at("reachable"), false);
  in.rpc->reachable = true;
  EXPECT_TRUE(judge_health(in).ok);
}

TEST(Health, FailsWhileStartingAndWhileDraining) {
  auto in = healthy();
  in.started = false;
  EXPECT_EQ(judge_health(in).reason, "starting");
  in.started = true;
  in.draining = true;
  EXPECT_EQ(judge_health(in).reason, "draining: the server is shutting down");
}

TEST(Ready, IsOkOnceStartedWithTheBrokerConnected) {
  auto in = healthy();
  in.canary = {};  // readiness does not wait for the canary
  auto verdict = judge_readiness(in);
  EXPECT_TRUE(verdict.ok);
  EXPECT_EQ(body_of(verdict).at("status"), "ready");
}

TEST(Ready, SaysWhyNotDuringStartUpBrokerOutageAndDrain) {
  auto in = healthy();
  in.started = false;
  EXPECT_EQ(judge_readiness(in).reason, "starting");
  in.started = true;
  in.adapter = {false, "redis: connecting to 127.0.0.1:6379", 0};
  auto verdict = judge_readiness(in);
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.reason, "pub/sub not connected: redis: connecting to 127.0.0.1:6379");
  EXPECT_EQ(body_of(verdict).at("status"), "not_ready");
  in.adapter.connected = true;
  in.draining = true;
  EXPECT_EQ(judge_readiness(in).reason, "draining: the server is shutting down");
}

}  // namespace
}  // namespace cablecast::server
