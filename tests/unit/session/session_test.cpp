#include "session/session.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/serialize.hpp>
#include <future>
#include <thread>

#include "fake_adapter.hpp"
#include "fake_transport.hpp"
#include "hub/hub.hpp"
#include "test_loop.hpp"

namespace cablecast::session {
namespace {

namespace json = boost::json;
std::vector<std::string> events;  // what test channels report, in order
// Blocking work started by TestChannel waits for this gate, so tests decide when it finishes.
std::shared_future<void> gate;

class TestChannel : public Channel {
 public:
  static void define_actions(Actions<TestChannel>& actions) {
    actions.add("echo", &TestChannel::echo);
    actions.add("stop", &TestChannel::stop);
    actions.add("whoami", &TestChannel::whoami);
  }

 protected:
  void subscribed() override {
    events.push_back("subscribed " + identifier());
    if (params().contains("reject")) return reject();
    if (auto greeting = param("greet")) transmit(json::string(*greeting));
    stream_from("s1");
    if (params().contains("two")) stream_from("s2");
    if (params().contains("block")) {
      run_blocking(
          [] {
            gate.wait();
            return 5;
          },
          [this](int value) { transmit(value); });
    }
    if (params().contains("throw")) throw std::runtime_error("boom");
  }
  void unsubscribed() override { events.push_back("unsubscribed " + identifier()); }

 private:
  void echo(const json::object& data) { transmit(data); }
  void stop() { stop_all_streams(); }
  void whoami() { transmit(json::object{{"me", connection_identifiers()}, {"params", params()}}); }
};

struct SessionTest : ::testing::Test, testing::TestLoop {
  SessionTest() {
    channels.emplace("TestChannel", detail::make_channel_class<TestChannel>("TestChannel"));
    hook = [](const ConnectionRequest& request) {
      if (request.query("reject")) return ConnectResult::reject();
      return ConnectResult::accept({{"user", request.query("user").value_or("anonymous")}});
    };
    events.clear();
  }
  ~SessionTest() override {
    if (session) session->on_closed();
    session.reset();
    pool.join();
  }

  void open(std::string target = "/cable?user=bob") {
    ws::Request request{boost::beast::http::verb::get, target, 11};
    session = std::make_unique<Session>(env, transport);
    session->on_open(ws::UpgradeInfo{request, "127.0.0.1", "actioncable-v1-json"});
  }
  // Sends a command and runs the loop: stream confirmations come back through it.
  void command(const json::object& cmd) {
    session->on_text(json::serialize(cmd));
    drain();
  }
  void subscribe(const std::string& id) { command({{"command", "subscribe"}, {"identifier", id}}); }
  void perform(const std::string& id, const json::object& data) {
    command({{"command", "message"}, {"identifier", id}, {"data", json::serialize(data)}});
  }
  static std::string confirm(const std::string& id) {
    return json::serialize(json::object{{"identifier", id}, {"type", "confirm_subscription"}});
  }
  static std::string reject(const std::string& id) {
    return json::serialize(json::object{{"identifier", id}, {"type", "reject_subscription"}});
  }
  static std::string message(const std::string& id, const json::value& m) {
    return json::serialize(json::object{{"identifier", id}, {"message", m}});
  }

  testing::FakeTransport transport;
  std::unique_ptr<Session> session;
};

const std::string kId = R"({"channel":"TestChannel"})";

TEST_F(SessionTest, WelcomesAnIdentifiedConnection) {
  open();
  EXPECT_EQ(transport.sent, std::vector<std::string>{R"({"type":"welcome"})"});
  EXPECT_EQ(session->identifiers().at("user"), "bob");
  EXPECT_EQ(sessions.size(), 1u);
  EXPECT_EQ(open_sessions.load(), 1u);
}

TEST_F(SessionTest, RejectedConnectionGetsUnauthorizedDisconnectAndClose1000) {
  open("/cable?reject=1");
  EXPECT_EQ(transport.sent,
            std::vector<std::string>{
                R"({"type":"disconnect","reason":"unauthorized","reconnect":false})"});
  EXPECT_EQ(transport.closed_with, 1000);
  EXPECT_TRUE(sessions.empty());
  subscribe(kId);  // commands from a rejected connection are ignored
  EXPECT_EQ(transport.sent.size(), 1u);
}

TEST_F(SessionTest, TransmissionsFromSubscribedPrecedeTheConfirmation) {
  open();
  std::string id = R"({"channel":"TestChannel","greet":"hello"})";
  subscribe(id);
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_EQ(transport.sent[1], message(id, "hello"));
  EXPECT_EQ(transport.sent[2], confirm(id));
}

TEST_F(SessionTest, DuplicateSubscribeIsIgnored) {
  open();
  subscribe(kId);
  subscribe(kId);
  EXPECT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(events.size(), 1u);
}

TEST_F(SessionTest, IdentifierIsAnOpaqueKey) {
  open();
  std::string a = R"({"channel":"TestChannel","x":1,"y":2})";
  std::string b = R"({"y":2,"channel":"TestChannel","x":1})";
  subscribe(a);
  subscribe(b);
  EXPECT_EQ(transport.sent.back(), confirm(b));
  shard.deliver("s1", std::make_shared<const std::string>("7"));
  ASSERT_EQ(transport.sent.size(), 5u);
  EXPECT_EQ(transport.sent[3], message(a, 7));
  EXPECT_EQ(transport.sent[4], message(b, 7));
}

TEST_F(SessionTest, SubscriptionsWithTheSameIdentifierShareTheLoopsCopy) {
  open();
  Session other(env, transport);
  other.on_open(ws::UpgradeInfo{ws::Request{boost::beast::http::verb::get, "/cable?user=al", 11},
                                "127.0.0.1", "actioncable-v1-json"});
  subscribe(kId);
  other.on_text(json::serialize(json::object{{"command", "subscribe"}, {"identifier", kId}}));
  drain();
  EXPECT_EQ(transport.sent.back(), confirm(kId));
  EXPECT_EQ(identifiers.size(), 1u) << "two subscriptions, one copy";
  other.on_closed();
  EXPECT_EQ(identifiers.size(), 1u) << "still subscribed here";
  command({{"command", "unsubscribe"}, {"identifier", kId}});
  EXPECT_EQ(identifiers.size(), 0u) << "the last subscription gone frees it";
}

TEST_F(SessionTest, ChannelCodeReadsTheConnectionIdentifiersInEveryCallback) {
  // Decoded on demand and dropped after each callback (an idle connection keeps the text only):
  // the second action decodes them again.
  open("/cable?user=bob");
  subscribe(kId);
  perform(kId, {{"action", "whoami"}});
  perform(kId, {{"action", "whoami"}});
  const json::value expected = {{"me", {{"user", "bob"}}}, {"params", {{"channel", "TestChannel"}}}};
  ASSERT_EQ(transport.sent.size(), 4u);
  EXPECT_EQ(transport.sent[2], message(kId, expected));
  EXPECT_EQ(transport.sent[3], message(kId, expected));
}

TEST_F(SessionTest, UnknownChannelGetsARejection) {
  open();
  std::string id = R"({"channel":"NoSuchChannel"})";
  subscribe(id);
  EXPECT_EQ(transport.sent.back(), reject(id));
}

TEST_F(SessionTest, RejectRunsUnsubscribedThenSendsRejectionAndForgetsTheSubscription) {
  open();
  std::string id = R"({"channel":"TestChannel","reject":true})";
  subscribe(id);
  EXPECT_EQ(transport.sent.back(), reject(id));
  EXPECT_EQ(events, (std::vector<std::string>{"subscribed " + id, "unsubscribed " + id}));
  subscribe(id);  // processed afresh, as in Rails
  EXPECT_EQ(transport.sent.size(), 3u);
  perform(id, {{"action", "echo"}});
  EXPECT_EQ(transport.sent.size(), 3u);
}

TEST_F(SessionTest, ExceptionInSubscribedRejects) {
  open();
  std::string id = R"({"channel":"TestChannel","throw":1})";
  subscribe(id);
  EXPECT_EQ(transport.sent.back(), reject(id));
  // It had started streaming before it threw: the rejection leaves no stream behind (the one
  // left is the connection's own internal broadcasting).
  EXPECT_EQ(shard.subscriber_count("s1"), 0u);
  EXPECT_EQ(shard.stream_count(), 1u);
  EXPECT_EQ(adapter.unsubscribes, std::vector<std::string>{"s1"});
  shard.deliver("s1", std::make_shared<const std::string>("1"));
  EXPECT_EQ(transport.sent.back(), reject(id));
}

TEST_F(SessionTest, ConfirmationWaitsForTheBrokerAndLaterCommandsWaitInOrder) {
  adapter.confirm_at_once = false;
  open();
  subscribe(kId);
  perform(kId, {{"action", "echo"}, {"n", 1}});
  EXPECT_EQ(transport.sent.size(), 1u) << "nothing before the broker confirmed";
  adapter.confirm_next();
  drain();
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_EQ(transport.sent[1], confirm(kId));
  EXPECT_EQ(transport.sent[2], message(kId, json::object{{"action", "echo"}, {"n", 1}}));
}

TEST_F(SessionTest, StreamMessagesBeforeTheConfirmationFollowIt) {
  adapter.confirm_at_once = false;
  open();
  std::string id = R"({"channel":"TestChannel","two":true})";
  subscribe(id);
  adapter.confirm_next();  // s1 live, s2 not yet
  drain();
  shard.deliver("s1", std::make_shared<const std::string>(R"("early")"));
  EXPECT_EQ(transport.sent.size(), 1u);
  adapter.confirm_next();
  drain();
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_EQ(transport.sent[1], confirm(id));
  EXPECT_EQ(transport.sent[2], message(id, "early"));
}

TEST_F(SessionTest, BrokerFailureRejectsInsteadOfConfirming) {
  adapter.confirm_at_once = false;
  open();
  subscribe(kId);
  adapter.confirm_next(boost::system::errc::make_error_code(boost::system::errc::not_connected));
  drain();
  EXPECT_EQ(transport.sent.back(), reject(kId));
}

TEST_F(SessionTest, BlockingWorkInSubscribedDefersTheConfirmation) {
  std::promise<void> release;
  gate = release.get_future().share();
  open();
  std::string id = R"({"channel":"TestChannel","block":true})";
  subscribe(id);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  drain();
  EXPECT_EQ(transport.sent.size(), 1u) << "no confirmation while the blocking work runs";
  release.set_value();
  for (int i = 0; i < 1000 && transport.sent.size() < 3; ++i) {  // up to ~5 s on a loaded box
    drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_EQ(transport.sent[1], message(id, 5));
  EXPECT_EQ(transport.sent[2], confirm(id));
}

TEST_F(SessionTest, BadCommandsSendNothingAndKeepTheConnectionUsable) {
  open();
  subscribe(kId);
  session->on_text("not json");  // (drained by the commands below)
  session->on_text("[1,2]");
  session->on_text(R"({"command":"dance","identifier":"x"})");
  perform(R"({"channel":"TestChannel","other":1})", {{"action", "echo"}});  // not subscribed
  perform(kId, {{"action", "nope"}});                                       // unknown action
  perform(kId, {{"x", 1}});                                                 // no action
  command({{"command", "message"}, {"identifier", kId}, {"data", json::object{}}});
  command({{"command", "unsubscribe"}, {"identifier", "{}"}});
  EXPECT_EQ(transport.sent.size(), 2u);
  EXPECT_FALSE(transport.closed_with);
  perform(kId, {{"action", "echo"}});
  EXPECT_EQ(transport.sent.size(), 3u);
}

TEST_F(SessionTest, UnsubscribeRunsUnsubscribedAndStopsTheStreams) {
  open();
  subscribe(kId);
  command({{"command", "unsubscribe"}, {"identifier", kId}});
  EXPECT_EQ(events.back(), "unsubscribed " + kId);
  EXPECT_EQ(adapter.unsubscribes, std::vector<std::string>{"s1"});
  shard.deliver("s1", std::make_shared<const std::string>("1"));
  EXPECT_EQ(transport.sent.size(), 2u) << "no ack, no delivery after unsubscribe";
}

TEST_F(SessionTest, ClosingUnsubscribesEverySubscription) {
  open();
  std::string a = R"({"channel":"TestChannel","n":1})";
  std::string b = R"({"channel":"TestChannel","n":2})";
  subscribe(a);
  subscribe(b);
  session->on_closed();
  EXPECT_EQ(events, (std::vector<std::string>{"subscribed " + a, "subscribed " + b,
                                              "unsubscribed " + a, "unsubscribed " + b}));
  EXPECT_EQ(shard.stream_count(), 0u);
  EXPECT_TRUE(sessions.empty());
  session.reset();
  EXPECT_EQ(open_sessions.load(), 0u);
}

TEST_F(SessionTest, SubscriptionsBeyondTheLimitAreRejected) {
  env.limits.max_subscriptions = 2;
  open();
  subscribe(R"({"channel":"TestChannel","n":1})");
  subscribe(R"({"channel":"TestChannel","n":2})");
  std::string third = R"({"channel":"TestChannel","n":3})";
  subscribe(third);
  EXPECT_EQ(transport.sent.back(), reject(third));
  EXPECT_EQ(events.size(), 2u) << "the third channel is never created";
}

TEST_F(SessionTest, CommandsBeyondTheRateLimitCloseWith1008) {
  env.limits.max_commands_per_second = 5;
  open();
  subscribe(kId);
  // Counted per clock second: 12 commands in a row put at least 6 in one second.
  for (int i = 0; i < 12; ++i) perform(kId, {{"action", "echo"}});
  EXPECT_EQ(transport.closed_with, 1008);
}

TEST_F(SessionTest, NoRateLimitByDefault) {
  open();
  subscribe(kId);
  for (int i = 0; i < 2000; ++i) perform(kId, {{"action", "echo"}});
  EXPECT_FALSE(transport.closed_with);
  EXPECT_EQ(transport.sent.size(), 2002u);
}

TEST_F(SessionTest, FloodWhileASubscriptionIsPendingIsClosedWith1008) {
  adapter.confirm_at_once = false;
  env.limits.max_backlog_bytes = 1000;
  open();
  subscribe(kId);
  for (int i = 0; i < 50; ++i) perform(kId, {{"action", "echo"}, {"pad", std::string(50, 'x')}});
  EXPECT_EQ(transport.closed_with, 1008);
}

TEST_F(SessionTest, EmptyMessagesWhileASubscriptionIsPendingAreChargedToo) {
  // An empty text message holds a string all the same: 6 bytes on the wire must not queue
  // for free while a subscription waits on the broker.
  adapter.confirm_at_once = false;
  env.limits.max_backlog_bytes = 1000;
  open();
  subscribe(kId);
  for (int i = 0; i < 100 && !transport.closed_with; ++i) session->on_text("");
  EXPECT_EQ(transport.closed_with, 1008);
}

// Identifiers padded to a few KiB each: the connection's total is bounded, a subscribe past it
// is rejected (nothing created), and unsubscribing frees room again.
TEST_F(SessionTest, IdentifierBytesPerConnectionAreBounded) {
  env.limits.max_identifier_bytes = 10000;
  open();
  auto padded = [](int n) {
    return R"({"channel":"TestChannel","n":)" + std::to_string(n) + R"(,"pad":")" +
           std::string(3000, 'x') + "\"}";
  };
  subscribe(padded(1));
  subscribe(padded(2));
  subscribe(padded(3));
  EXPECT_EQ(transport.sent.back(), confirm(padded(3)));
  subscribe(padded(4));
  EXPECT_EQ(transport.sent.back(), reject(padded(4)));
  EXPECT_EQ(events.size(), 3u) << "the fourth channel is never created";
  command({{"command", "unsubscribe"}, {"identifier", padded(1)}});
  subscribe(padded(4));
  EXPECT_EQ(transport.sent.back(), confirm(padded(4)));
  // One identifier over the whole budget is refused before it is even parsed.
  std::string huge = R"({"channel":"TestChannel","pad":")" + std::string(20000, 'y') + "\"}";
  subscribe(huge);
  EXPECT_EQ(transport.sent.back(), reject(huge));
}

TEST_F(SessionTest, CountsEveryCommandByItsTypeAndFramesThatAreNoCommand) {
  open();
  subscribe(kId);
  perform(kId, {{"action", "echo"}});
  command({{"command", "unsubscribe"}, {"identifier", kId}});
  session->on_text("not json");
  drain();
  using metrics::CommandKind;
  EXPECT_EQ(metrics.commands.at(CommandKind::subscribe).value(), 1u);
  EXPECT_EQ(metrics.commands.at(CommandKind::message).value(), 1u);
  EXPECT_EQ(metrics.commands.at(CommandKind::unsubscribe).value(), 1u);
  EXPECT_EQ(metrics.commands.at(CommandKind::invalid).value(), 1u);
}

TEST_F(SessionTest, TheSubscriptionsGaugeFollowsSubscribeUnsubscribeAndClose) {
  open();
  subscribe(kId);
  subscribe(R"({"channel":"TestChannel","two":1})");
  EXPECT_EQ(metrics.subscriptions.value(), 2);
  command({{"command", "unsubscribe"}, {"identifier", kId}});
  EXPECT_EQ(metrics.subscriptions.value(), 1);
  session->on_closed();
  session.reset();
  EXPECT_EQ(metrics.subscriptions.value(), 0);
}

TEST_F(SessionTest, CountsRejectedSubscriptionsByReason) {
  open();
  subscribe(R"({"channel":"TestChannel","reject":1})");
  subscribe(R"({"channel":"NoSuchChannel"})");
  using metrics::SubscriptionRejection;
  EXPECT_EQ(metrics.subscriptions_rejected.at(SubscriptionRejection::rejected).value(), 1u);
  EXPECT_EQ(metrics.subscriptions_rejected.at(SubscriptionRejection::unknown_channel).value(), 1u);
  EXPECT_EQ(metrics.subscriptions_rejected.at(SubscriptionRejection::limit).value(), 0u);
  EXPECT_EQ(metrics.subscriptions.value(), 0) << "a rejected subscription is forgotten";
}

}  // namespace
}  // namespace cablecast::session
