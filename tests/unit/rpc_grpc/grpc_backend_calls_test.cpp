// GrpcBackend against a real gRPC server (tests/support/grpc_backend/server.rb, Ruby's grpc gem):
// every field of the three calls reaches the application, every field of its replies comes
// back, and the application's errors come back as errors.
#include <gtest/gtest.h>

#include "backend_harness.hpp"

namespace cablecast::rpc::testing {
namespace {

namespace json = boost::json;

class GrpcBackendCalls : public ::testing::Test {
 protected:
  Caller caller;
  GrpcTestServer server;
  std::unique_ptr<Backend> backend = make_backend(server.url());
};

TEST_F(GrpcBackendCalls, ConnectWithAUserInTheQueryIsAcceptedWithItsIdentifiersAndWelcome) {
  Outcome<ConnectionResponse> out;
  backend->connect(
      connect_request("ws://example.test/cable?user=alice",
                      {{"REMOTE_ADDR", "10.1.2.3"}, {"origin", "http://example.test"}}),
      meta("sid-1"), caller.executor(), caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::success);
  EXPECT_EQ(reply->identifiers, R"({"user":"alice"})");
  EXPECT_EQ(reply->transmissions, std::vector<std::string>{R"({"type":"welcome"})"});
  EXPECT_EQ(reply->env.cstate, (StringMap{{"user", "alice"}}));
  EXPECT_TRUE(reply->env.istate.empty());
  EXPECT_EQ(reply->error_msg, "");

  auto call = server.next_call();
  EXPECT_EQ(call.at("method"), "Connect");
  EXPECT_EQ(field(call, {"env", "url"}), "ws://example.test/cable?user=alice");
  EXPECT_EQ(field(call, {"env", "headers"}),
            json::parse(R"({"REMOTE_ADDR":"10.1.2.3","origin":"http://example.test"})"));
}

TEST_F(GrpcBackendCalls, ConnectWithAUserInTheCookieIsAccepted) {
  Outcome<ConnectionResponse> out;
  backend->connect(connect_request("ws://example.test/cable", {{"cookie", "theme=dark; user=bob"}}),
                   meta("sid-1"), caller.executor(), caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::success);
  EXPECT_EQ(reply->identifiers, R"({"user":"bob"})");
}

TEST_F(GrpcBackendCalls, ConnectWithoutAUserIsRefusedWithTheDisconnectTransmission) {
  Outcome<ConnectionResponse> out;
  backend->connect(connect_request("ws://example.test/cable"), meta("sid-1"), caller.executor(),
                   caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::failure);
  EXPECT_EQ(reply->identifiers, "");
  EXPECT_EQ(reply->transmissions,
            std::vector<std::string>{
                R"({"type":"disconnect","reason":"unauthorized","reconnect":false})"});
  EXPECT_EQ(reply->error_msg, "unauthorized");
}

TEST_F(GrpcBackendCalls, EveryCallCarriesTheSessionIdAndProtocolVersionAsMetadata) {
  Outcome<ConnectionResponse> connected;
  Outcome<CommandResponse> commanded;
  Outcome<DisconnectResponse> disconnected;
  backend->connect(connect_request("ws://example.test/cable?user=alice"), meta("sid-connect"),
                   caller.executor(), caller.into(connected));
  ASSERT_TRUE(caller.wait(connected));
  backend->command(perform("speak"), meta("sid-command"), caller.executor(),
                   caller.into(commanded));
  ASSERT_TRUE(caller.wait(commanded));
  backend->disconnect(DisconnectRequest{}, meta("sid-disconnect"), caller.executor(),
                      caller.into(disconnected));
  ASSERT_TRUE(caller.wait(disconnected));

  for (const char* sid : {"sid-connect", "sid-command", "sid-disconnect"}) {
    auto call = server.next_call();
    EXPECT_EQ(call.at("metadata"),
              json::parse(std::string(R"({"sid":")") + sid + R"(","protov":"v1"})"));
  }
}

TEST_F(GrpcBackendCalls, SubscribeAnswersWithStreamsStateAndTheConfirmation) {
  Outcome<CommandResponse> out;
  backend->command(CommandMessage{.command = "subscribe",
                                  .identifier = kRoom42,
                                  .connection_identifiers = R"({"user":"alice"})",
                                  .data = "",
                                  .env = Env{.url = "ws://example.test/cable",
                                             .headers = {{"cookie", "user=alice"}},
                                             .cstate = {{"user", "alice"}},
                                             .istate = {}}},
                   meta("sid-1"), caller.executor(), caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::success);
  EXPECT_EQ(reply->streams, std::vector<std::string>{"chat_42"});
  EXPECT_EQ(reply->env.istate, (StringMap{{"room", "42"}}));
  ASSERT_EQ(reply->transmissions.size(), 1u);
  EXPECT_EQ(json::parse(reply->transmissions[0]),
            (json::object{{"identifier", kRoom42}, {"type", "confirm_subscription"}}));
  EXPECT_FALSE(reply->stop_streams);
  EXPECT_FALSE(reply->disconnect);
  EXPECT_FALSE(reply->presence);

  auto call = server.next_call();
  EXPECT_EQ(call.at("method"), "Command");
  EXPECT_EQ(field(call, {"command"}), "subscribe");
  EXPECT_EQ(field(call, {"identifier"}).as_string(), kRoom42);
  EXPECT_EQ(field(call, {"connection_identifiers"}), R"({"user":"alice"})");
  EXPECT_EQ(field(call, {"env", "cstate"}), json::parse(R"({"user":"alice"})"));
  EXPECT_EQ(field(call, {"env", "headers"}), json::parse(R"({"cookie":"user=alice"})"));
}

TEST_F(GrpcBackendCalls, SubscribeWithoutARoomIsRejected) {
  const std::string no_room = R"({"channel":"ChatChannel"})";
  CommandMessage subscribe;
  subscribe.command = "subscribe";
  subscribe.identifier = no_room;
  Outcome<CommandResponse> out;
  backend->command(std::move(subscribe), meta("sid-1"), caller.executor(), caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::failure);
  EXPECT_TRUE(reply->streams.empty());
  ASSERT_EQ(reply->transmissions.size(), 1u);
  EXPECT_EQ(json::parse(reply->transmissions[0]),
            (json::object{{"identifier", no_room}, {"type", "reject_subscription"}}));
}

TEST_F(GrpcBackendCalls, AMessageCarriesItsDataStateAndConnectionIdentifiers) {
  auto request = perform("speak", {{"text", "hi"}});
  request.env.istate = {{"room", "42"}};
  Outcome<CommandResponse> out;
  backend->command(std::move(request), meta("sid-1"), caller.executor(), caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::success);
  ASSERT_EQ(reply->transmissions.size(), 1u);
  // The application saw the data, the subscription's state and the connection's identifiers.
  EXPECT_EQ(json::parse(reply->transmissions[0]),
            (json::object{{"identifier", kRoom42},
                          {"message", {{"text", "hi"}, {"room", "42"}, {"user", "alice"}}}}));

  auto call = server.next_call();
  EXPECT_EQ(field(call, {"command"}), "message");
  EXPECT_EQ(json::parse(field(call, {"data"}).as_string()),
            (json::object{{"text", "hi"}, {"action", "speak"}}));
  EXPECT_EQ(field(call, {"env", "istate"}), json::parse(R"({"room":"42"})"));
}

TEST_F(GrpcBackendCalls, EveryFieldOfACommandReplyReachesTheCaller) {
  auto request = perform("leave");
  request.env.istate = {{"room", "42"}};
  Outcome<CommandResponse> out;
  backend->command(std::move(request), meta("sid-1"), caller.executor(), caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::success);
  EXPECT_TRUE(reply->disconnect);
  EXPECT_FALSE(reply->stop_streams);
  EXPECT_EQ(reply->stopped_streams, std::vector<std::string>{"chat_42"});
  EXPECT_EQ(reply->env.cstate, (StringMap{{"left", "42"}}));
  EXPECT_EQ(reply->env.istate, (StringMap{{"room", ""}}));  // an empty value deletes the key
  ASSERT_TRUE(reply->presence);
  EXPECT_EQ(reply->presence->type, "leave");
  EXPECT_EQ(reply->presence->id, "alice");
  EXPECT_EQ(reply->presence->info, "{}");
  EXPECT_EQ(reply->presence->ttl, 60u);
}

TEST_F(GrpcBackendCalls, DisconnectCarriesIdentifiersSubscriptionsAndState) {
  const std::string room7 = R"({"channel":"ChatChannel","room":"7"})";
  Outcome<DisconnectResponse> out;
  backend->disconnect(DisconnectRequest{.identifiers = R"({"user":"alice"})",
                                        .subscriptions = {kRoom42, room7},
                                        .env = Env{.url = "ws://example.test/cable",
                                                   .headers = {},
                                                   .cstate = {{"user", "alice"}},
                                                   .istate = {{kRoom42, R"({"room":"42"})"}}}},
                      meta("sid-1"), caller.executor(), caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::success);

  auto call = server.next_call();
  EXPECT_EQ(call.at("method"), "Disconnect");
  EXPECT_EQ(field(call, {"identifiers"}), R"({"user":"alice"})");
  EXPECT_EQ(field(call, {"subscriptions"}), (json::array{kRoom42, room7}));
  EXPECT_EQ(field(call, {"env", "istate"}), (json::object{{kRoom42, R"({"room":"42"})"}}));
  EXPECT_EQ(field(call, {"env", "cstate"}), json::parse(R"({"user":"alice"})"));
}

TEST_F(GrpcBackendCalls, AnErrorStatusComesBackWithTheApplicationsMessage) {
  Outcome<CommandResponse> out;
  backend->command(perform("speak", {}, R"({"channel":"NopeChannel"})"), meta("sid-1"),
                   caller.executor(), caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->status, Status::error);
  EXPECT_EQ(reply->error_msg, "Channel not found: NopeChannel");
}

TEST_F(GrpcBackendCalls, AStatusOutsideTheContractIsABadResponse) {
  Outcome<CommandResponse> out;
  backend->command(perform("bad_status"), meta("sid-1"), caller.executor(), caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), grpc::Error::bad_response);
}

TEST_F(GrpcBackendCalls, AReplyOverTheSizeLimitIsABadResponseAndIsNotRetried) {
  Outcome<CommandResponse> huge, next;
  backend->command(perform("huge"), meta("huge"), caller.executor(), caller.into(huge));

  auto reply = caller.wait(huge);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), grpc::Error::bad_response);
  // The application did the work once: the record after it is the next call's, not a retry.
  backend->command(perform("speak"), meta("next"), caller.executor(), caller.into(next));
  ASSERT_TRUE(caller.wait(next));
  EXPECT_EQ(server.next_call().at("metadata").at("sid"), "huge");
  EXPECT_EQ(server.next_call().at("metadata").at("sid"), "next");
}

TEST_F(GrpcBackendCalls, AnExceptionInTheApplicationIsAFailedCall) {
  Outcome<CommandResponse> out;
  backend->command(perform("raise"), meta("sid-1"), caller.executor(), caller.into(out));

  auto reply = caller.wait(out);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), grpc::Error::call_failed);
}

TEST_F(GrpcBackendCalls, TheCompletionRunsOnTheCallersExecutorAfterTheCallReturns) {
  Outcome<ConnectionResponse> out;
  backend->connect(connect_request("ws://example.test/cable?user=alice"), meta("sid-1"),
                   caller.executor(), caller.into(out));
  EXPECT_FALSE(out.result);

  ASSERT_TRUE(caller.wait(out));
  EXPECT_EQ(out.thread, std::this_thread::get_id());  // the thread running the caller's loop
}

TEST(GrpcBackendCreate, AUrlThatIsNotGrpcIsRefused) {
  BackendOptions options;
  options.url = "http://127.0.0.1:50051";
  auto backend = GrpcBackend::create(options);
  ASSERT_FALSE(backend);
  EXPECT_EQ(backend.error(), grpc::Error::bad_url);
}

}  // namespace
}  // namespace cablecast::rpc::testing
