// A connection identified by an AnyCable JWT: no connect hook, no RPC call.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <ctime>

#include "auth/jwt.hpp"
#include "fake_adapter.hpp"
#include "fake_rpc_backend.hpp"
#include "fake_transport.hpp"
#include "hub/hub.hpp"
#include "session/session.hpp"
#include "test_loop.hpp"

namespace cablecast::session {
namespace jwt_identification_test {

namespace json = boost::json;

const std::string kSecret = "jwt-secret";

std::string token(std::int64_t expires_in, const std::string& secret = kSecret) {
  json::object claims{{"ext", R"({"user_id":42})"}, {"exp", std::time(nullptr) + expires_in}};
  return auth::sign_jwt(json::serialize(claims), secret, auth::Digest::sha256);
}

struct JwtIdentificationTest : ::testing::Test, testing::TestLoop {
  JwtIdentificationTest() {
    env.jwt.secret = kSecret;
    hook = [this](const ConnectionRequest&) {
      ++hook_calls;
      return ConnectResult::accept({{"from", "hook"}});
    };
  }
  ~JwtIdentificationTest() override {
    if (session) session->on_closed();
    session.reset();
    pool.join();
  }
  void open(const std::string& target,
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    ws::Request request{boost::beast::http::verb::get, target, 11};
    for (auto& [name, value] : headers) request.set(name, value);
    session = std::make_unique<Session>(env, transport);
    session->on_open(ws::UpgradeInfo{request, "127.0.0.1", "actioncable-v1-json"});
    drain();
  }

  int hook_calls = 0;
  testing::FakeTransport transport;
  std::unique_ptr<Session> session;
};

TEST_F(JwtIdentificationTest, AValidTokenInTheQueryIdentifiesWithoutTheHook) {
  open("/cable?jid=" + token(60));
  ASSERT_EQ(transport.sent.size(), 1u);
  auto welcome = json::parse(transport.sent[0]).as_object();
  EXPECT_EQ(welcome.at("type"), "welcome");
  EXPECT_EQ(welcome.at("sid").as_string(), session->sid().view());
  EXPECT_EQ(session->identifiers().at("user_id"), 42);
  EXPECT_EQ(hook_calls, 0);
}

TEST_F(JwtIdentificationTest, TheTokenMayComeInTheHeaderOrAsASubProtocol) {
  open("/cable", {{"X-JID", token(60)}});
  EXPECT_EQ(session->identifiers().at("user_id"), 42);
  session->on_closed();
  transport = {};
  open("/cable", {{"Sec-WebSocket-Protocol", "actioncable-v1-json, anycable-token." + token(60)}});
  EXPECT_EQ(session->identifiers().at("user_id"), 42);
  EXPECT_EQ(hook_calls, 0);
}

TEST_F(JwtIdentificationTest, AnExpiredTokenIsToldSoAndNotToReconnect) {
  open("/cable?jid=" + token(-10));
  EXPECT_EQ(transport.sent,
            std::vector<std::string>{
                R"({"type":"disconnect","reason":"token_expired","reconnect":false})"});
  EXPECT_EQ(transport.closed_with, 1000);
}

TEST_F(JwtIdentificationTest, AForgedTokenIsUnauthorized) {
  open("/cable?jid=" + token(60, "another-secret"));
  EXPECT_EQ(transport.sent,
            std::vector<std::string>{
                R"({"type":"disconnect","reason":"unauthorized","reconnect":false})"});
  EXPECT_EQ(hook_calls, 0);
}

TEST_F(JwtIdentificationTest, NoTokenFallsThroughToTheConnectHook) {
  open("/cable");
  EXPECT_EQ(hook_calls, 1);
  EXPECT_EQ(session->identifiers().at("from"), "hook");
}

TEST_F(JwtIdentificationTest, NoTokenIsRefusedWhenTokensAreEnforced) {
  env.jwt.enforce = true;
  open("/cable");
  EXPECT_EQ(hook_calls, 0);
  EXPECT_EQ(transport.sent,
            std::vector<std::string>{
                R"({"type":"disconnect","reason":"unauthorized","reconnect":false})"});
}

TEST_F(JwtIdentificationTest, RpcCommandsOfATokenConnectionCarryItsIdentifiersAndNoConnectCall) {
  testing::FakeRpcBackend backend;
  env.rpc.backend = &backend;
  hook = nullptr;
  open("/cable?jid=" + token(60));
  EXPECT_TRUE(backend.connects.empty());
  session->on_text(R"({"command":"subscribe","identifier":"{\"channel\":\"AppChannel\"}"})");
  ASSERT_EQ(backend.commands.size(), 1u);
  EXPECT_EQ(backend.commands[0].request.connection_identifiers, R"({"user_id":42})");
  session->on_closed();  // while `backend` still exists: closing calls it
  EXPECT_EQ(backend.disconnects.size(), 1u) << "a connection that called the application";
}

TEST_F(JwtIdentificationTest, ATokenConnectionThatNeverCalledTheApplicationMakesNoDisconnectCall) {
  testing::FakeRpcBackend backend;
  env.rpc.backend = &backend;
  open("/cable?jid=" + token(60));
  session->on_closed();
  EXPECT_TRUE(backend.disconnects.empty());
}

}  // namespace jwt_identification_test
}  // namespace cablecast::session
