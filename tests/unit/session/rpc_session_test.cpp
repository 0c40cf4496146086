// A session whose channels live in the application, reached over RPC (a fake backend answered
// by hand, so each test decides what the application replies and when).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "fake_adapter.hpp"
#include "fake_rpc_backend.hpp"
#include "fake_transport.hpp"
#include "hub/hub.hpp"
#include "session/session.hpp"
#include "test_loop.hpp"

namespace cablecast::session {
namespace rpc_session_test {

namespace json = boost::json;
using rpc::Status;

const std::string kChat = R"({"channel":"ChatChannel","room":"42"})";

rpc::CommandResponse confirmed(std::vector<std::string> streams, rpc::StringMap istate = {}) {
  rpc::CommandResponse reply;
  reply.status = Status::success;
  reply.streams = std::move(streams);
  reply.transmissions = {
      json::serialize(json::object{{"identifier", kChat}, {"type", "confirm_subscription"}})};
  reply.env.istate = std::move(istate);
  return reply;
}

rpc::ConnectionResponse accepted(std::string identifiers) {
  rpc::ConnectionResponse reply;
  reply.status = Status::success;
  reply.identifiers = std::move(identifiers);
  reply.transmissions = {R"({"type":"welcome","sid":"app"})"};
  return reply;
}

struct RpcSessionTest : ::testing::Test, testing::TestLoop {
  RpcSessionTest() {
    env.rpc.backend = &backend;
    env.rpc.forward_headers = {"cookie"};
  }
  ~RpcSessionTest() override {
    if (session) session->on_closed();
    session.reset();
    pool.join();
  }

  void open(std::string target = "/cable?token=abc") {
    ws::Request request{boost::beast::http::verb::get, target, 11};
    request.set("Host", "example.test:8080");
    request.set("Cookie", "session=s1");
    request.set("X-Secret", "not forwarded");
    session = std::make_unique<Session>(env, transport);
    session->on_open(ws::UpgradeInfo{request, "10.1.2.3", "actioncable-v1-json"});
    drain();
  }
  void open_accepted() {
    open();
    backend.reply_connect(accepted(R"({"user":"alice"})"));
    drain();
    transport.sent.clear();
  }
  void command(const json::object& cmd) {
    session->on_text(json::serialize(cmd));
    drain();
  }
  void subscribe(const std::string& id) { command({{"command", "subscribe"}, {"identifier", id}}); }
  void perform(const std::string& id, const json::object& data) {
    command({{"command", "message"}, {"identifier", id}, {"data", json::serialize(data)}});
  }

  testing::FakeRpcBackend backend;
  testing::FakeTransport transport;
  std::unique_ptr<Session> session;
};

TEST_F(RpcSessionTest, ConnectCarriesTheAbsoluteUrlForwardedHeadersAndTheSessionId) {
  open();
  ASSERT_EQ(backend.connects.size(), 1u);
  const auto& call = backend.connects[0];
  EXPECT_EQ(call.request.env.url, "http://example.test:8080/cable?token=abc");
  EXPECT_EQ(call.request.env.headers,
            (rpc::StringMap{{"REMOTE_ADDR", "10.1.2.3"}, {"cookie", "session=s1"}}));
  EXPECT_EQ(call.meta.sid, session->sid().view());
  EXPECT_EQ(call.meta.sid.size(), SessionId::kLength);
  EXPECT_TRUE(transport.sent.empty()) << "nothing is sent before the application answers";
}

TEST_F(RpcSessionTest, AnAcceptedConnectionGetsTheApplicationsWelcomeAndKeepsItsIdentifiers) {
  open();
  backend.reply_connect(accepted(R"({"user":"alice"})"));
  drain();
  EXPECT_EQ(transport.sent, std::vector<std::string>{R"({"type":"welcome","sid":"app"})"});
  EXPECT_EQ(session->identifiers().at("user"), "alice");
  EXPECT_EQ(sessions.size(), 1u);
  subscribe(kChat);
  ASSERT_EQ(backend.commands.size(), 1u);
  EXPECT_EQ(backend.commands[0].request.connection_identifiers, R"({"user":"alice"})");
}

TEST_F(RpcSessionTest, CommandsSentBeforeTheWelcomeWaitForItAndRunInOrder) {
  open();
  subscribe(kChat);
  EXPECT_TRUE(backend.commands.empty());
  backend.reply_connect(accepted("{}"));
  drain();
  ASSERT_EQ(backend.commands.size(), 1u);
  EXPECT_EQ(backend.commands[0].request.command, "subscribe");
  EXPECT_EQ(backend.commands[0].request.identifier, kChat);
}

TEST_F(RpcSessionTest, ARejectedConnectForwardsTheApplicationsFramesAndCloses1000) {
  open();
  rpc::ConnectionResponse reply;
  reply.status = Status::failure;
  reply.transmissions = {R"({"type":"disconnect","reason":"unauthorized","reconnect":false})"};
  backend.reply_connect(reply);
  drain();
  EXPECT_EQ(transport.sent, reply.transmissions);
  EXPECT_EQ(transport.closed_with, 1000);
  session->on_closed();
  EXPECT_TRUE(backend.disconnects.empty()) << "a connection never established is not reported";
}

TEST_F(RpcSessionTest, AConnectThatFailsClosesWith1011AndNoFrame) {
  open();
  backend.reply_connect(boost::system::error_code(boost::asio::error::timed_out));
  drain();
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_EQ(transport.closed_with, 1011);
}

TEST_F(RpcSessionTest, AnErrorStatusOnConnectClosesWith1011Too) {
  open();
  rpc::ConnectionResponse reply;  // no status: ERROR
  reply.transmissions = {R"({"type":"welcome"})"};
  backend.reply_connect(reply);
  drain();
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_EQ(transport.closed_with, 1011);
}

TEST_F(RpcSessionTest, TheConfirmationGoesOutOnlyOnceTheStreamsAreLive) {
  adapter.confirm_at_once = false;
  open_accepted();
  subscribe(kChat);
  backend.reply_command(confirmed({"chat_42"}));
  drain();
  EXPECT_TRUE(transport.sent.empty()) << "stream not live yet";
  shard.deliver("chat_42", std::make_shared<const std::string>(R"("early")"));
  adapter.confirm_next();
  drain();
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(json::parse(transport.sent[0]).at("type"), "confirm_subscription");
  EXPECT_EQ(json::parse(transport.sent[1]).at("message"), "early");
}

TEST_F(RpcSessionTest, LaterCommandsWaitForTheReplyOfAnEarlierOne) {
  open_accepted();
  subscribe(kChat);
  perform(kChat, {{"action", "speak"}, {"text", "hi"}});
  EXPECT_EQ(backend.commands.size(), 1u) << "the message waits for the subscribe reply";
  backend.reply_command(confirmed({"chat_42"}, {{"room", "\"42\""}}));
  drain();
  ASSERT_EQ(backend.commands.size(), 2u);
  const auto& message = backend.commands[1].request;
  EXPECT_EQ(message.command, "message");
  EXPECT_EQ(json::parse(message.data), (json::object{{"action", "speak"}, {"text", "hi"}}));
  EXPECT_EQ(message.env.istate, (rpc::StringMap{{"room", "\"42\""}}))
      << "a command carries its subscription's state";
}

TEST_F(RpcSessionTest, StateMergesKeyByKeyAndAnEmptyValueDeletesAKey) {
  open_accepted();
  subscribe(kChat);
  backend.reply_command(confirmed({}, {{"a", "1"}, {"b", "2"}}));
  drain();
  perform(kChat, {{"action", "x"}});
  rpc::CommandResponse reply;
  reply.status = Status::success;
  reply.env.istate = {{"a", ""}, {"c", "3"}};
  reply.env.cstate = {{"seen", "yes"}};
  backend.reply_command(reply);
  drain();
  perform(kChat, {{"action", "y"}});
  ASSERT_EQ(backend.commands.size(), 3u);
  EXPECT_EQ(backend.commands[2].request.env.istate, (rpc::StringMap{{"b", "2"}, {"c", "3"}}));
  EXPECT_EQ(backend.commands[2].request.env.cstate, (rpc::StringMap{{"seen", "yes"}}));
}

TEST_F(RpcSessionTest, AFailedCommandSendsNothingAndTheConnectionStaysUp) {
  open_accepted();
  subscribe(kChat);
  backend.reply_command(confirmed({"chat_42"}));
  drain();
  transport.sent.clear();
  perform(kChat, {{"action", "speak"}});
  backend.reply_command(boost::system::error_code(boost::asio::error::connection_refused));
  drain();
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_FALSE(transport.closed_with);
  shard.deliver("chat_42", std::make_shared<const std::string>(R"("still here")"));
  drain();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(json::parse(transport.sent[0]).at("message"), "still here");
}

TEST_F(RpcSessionTest, ARefusedSubscriptionForwardsTheRejectionAndCanBeTriedAgain) {
  open_accepted();
  subscribe(kChat);
  rpc::CommandResponse reply;
  reply.status = Status::failure;
  reply.streams = {"never"};
  reply.transmissions = {
      json::serialize(json::object{{"identifier", kChat}, {"type", "reject_subscription"}})};
  backend.reply_command(reply);
  drain();
  EXPECT_EQ(transport.sent, reply.transmissions);
  EXPECT_TRUE(adapter.subscribes.empty()) << "a refused subscription streams nothing";
  subscribe(kChat);
  EXPECT_EQ(backend.commands.size(), 2u);
}

TEST_F(RpcSessionTest, StopStreamsThenStreamsInTheReplysOrder) {
  open_accepted();
  subscribe(kChat);
  backend.reply_command(confirmed({"a", "b"}));
  drain();
  perform(kChat, {{"action", "move"}});
  rpc::CommandResponse reply;
  reply.status = Status::success;
  reply.stop_streams = true;
  reply.streams = {"c"};
  backend.reply_command(reply);
  drain();
  transport.sent.clear();
  shard.deliver("a", std::make_shared<const std::string>(R"("old")"));
  shard.deliver("c", std::make_shared<const std::string>(R"("new")"));
  drain();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(json::parse(transport.sent[0]).at("message"), "new");
}

TEST_F(RpcSessionTest, UnsubscribeStopsDeliveryAndTellsTheApplication) {
  open_accepted();
  subscribe(kChat);
  backend.reply_command(confirmed({"chat_42"}));
  drain();
  transport.sent.clear();
  command({{"command", "unsubscribe"}, {"identifier", kChat}});
  ASSERT_EQ(backend.commands.size(), 2u);
  EXPECT_EQ(backend.commands[1].request.command, "unsubscribe");
  shard.deliver("chat_42", std::make_shared<const std::string>(R"("gone")"));
  drain();
  EXPECT_TRUE(transport.sent.empty());
}

TEST_F(RpcSessionTest, CloseMakesOneDisconnectCallWithEverySubscriptionAndItsState) {
  open_accepted();
  subscribe(kChat);
  backend.reply_command(confirmed({"chat_42"}, {{"room", "\"42\""}}));
  drain();
  session->on_closed();
  ASSERT_EQ(backend.disconnects.size(), 1u);
  const auto& call = backend.disconnects[0].request;
  EXPECT_EQ(call.identifiers, R"({"user":"alice"})");
  EXPECT_EQ(call.subscriptions, std::vector<std::string>{kChat});
  EXPECT_EQ(json::parse(call.env.istate.at(kChat)), (json::object{{"room", "\"42\""}}));
  EXPECT_EQ(call.env.url, "http://example.test:8080/cable?token=abc");
}

TEST_F(RpcSessionTest, AReplyForAClosedConnectionIsDropped) {
  open_accepted();
  subscribe(kChat);
  session->on_closed();
  session.reset();
  backend.reply_command(confirmed({"chat_42"}));
  drain();  // must not touch the destroyed session
  EXPECT_TRUE(adapter.subscribes.empty());
}

TEST_F(RpcSessionTest, TheApplicationCanCloseTheConnectionFromAReply) {
  open_accepted();
  subscribe(kChat);
  auto reply = confirmed({});
  reply.disconnect = true;
  backend.reply_command(reply);
  drain();
  EXPECT_EQ(transport.closed_with, 1000);
}

}  // namespace rpc_session_test
}  // namespace cablecast::session
