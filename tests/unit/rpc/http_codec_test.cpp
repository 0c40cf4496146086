// The JSON of AnyCable's RPC over HTTP, checked against hand-written bodies: what anycable-go
// sends (rpc.proto field names, empty fields left out, status as a number) and what backends
// answer, including everything a broken backend could answer.
#include "rpc/http_codec.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <string>

namespace cablecast::rpc::http {
namespace {

Env sample_env() {
  Env env;
  env.url = "ws://example.com/cable?token=1";
  env.headers = {{"REMOTE_ADDR", "10.0.0.1"}, {"cookie", "session=abc"}};
  return env;
}

// ---- requests ---------------------------------------------------------------------------------

TEST(HttpRpcConnectRequest, WritesTheEnvWithUrlAndHeaders) {
  ConnectionRequest request{sample_env()};
  EXPECT_EQ(encode(request), R"({"env":{"url":"ws://example.com/cable?token=1",)"
                             R"("headers":{"REMOTE_ADDR":"10.0.0.1","cookie":"session=abc"}}})");
}

TEST(HttpRpcConnectRequest, LeavesOutEmptyFieldsButAlwaysSendsTheEnv) {
  EXPECT_EQ(encode(ConnectionRequest{}), R"({"env":{}})");
}

TEST(HttpRpcConnectRequest, WritesStateMapsInKeyOrder) {
  ConnectionRequest request;
  request.env.cstate = {{"z", "1"}, {"a", "2"}};
  request.env.istate = {{"room", "42"}};
  EXPECT_EQ(encode(request), R"({"env":{"cstate":{"a":"2","z":"1"},"istate":{"room":"42"}}})");
}

TEST(HttpRpcCommandMessage, WritesEveryFieldInProtoOrder) {
  CommandMessage request;
  request.command = "message";
  request.identifier = R"({"channel":"ChatChannel"})";
  request.connection_identifiers = R"({"user_id":42})";
  request.data = R"({"action":"speak","text":"hi"})";
  request.env.url = "ws://h/cable";
  request.env.istate = {{"room", "1"}};
  EXPECT_EQ(encode(request), R"({"command":"message","identifier":"{\"channel\":\"ChatChannel\"}",)"
                             R"("connection_identifiers":"{\"user_id\":42}",)"
                             R"("data":"{\"action\":\"speak\",\"text\":\"hi\"}",)"
                             R"("env":{"url":"ws://h/cable","istate":{"room":"1"}}})");
}

TEST(HttpRpcCommandMessage, LeavesOutEmptyDataAndIdentifiers) {
  CommandMessage request;
  request.command = "subscribe";
  request.identifier = "x";
  EXPECT_EQ(encode(request), R"({"command":"subscribe","identifier":"x","env":{}})");
}

TEST(HttpRpcDisconnectRequest, WritesIdentifiersSubscriptionsAndPerSubscriptionState) {
  DisconnectRequest request;
  request.identifiers = R"({"user_id":12})";
  request.subscriptions = {R"({"channel":"A"})", R"({"channel":"B"})"};
  request.env.url = "ws://h/cable";
  request.env.istate = {{R"({"channel":"A"})", R"({"room_id":42})"}};
  EXPECT_EQ(encode(request),
            R"({"identifiers":"{\"user_id\":12}",)"
            R"("subscriptions":["{\"channel\":\"A\"}","{\"channel\":\"B\"}"],)"
            R"("env":{"url":"ws://h/cable","istate":{"{\"channel\":\"A\"}":"{\"room_id\":42}"}}})");
}

TEST(HttpRpcDisconnectRequest, LeavesOutAnEmptySubscriptionList) {
  DisconnectRequest request;
  request.identifiers = "id";
  EXPECT_EQ(encode(request), R"({"identifiers":"id","env":{}})");
}

TEST(HttpRpcCommandMessage, EscapesControlCharactersQuotesAndKeepsUnicode) {
  CommandMessage request;
  request.command = "message";
  request.data = "line\nbreak \"quoted\" \\ tab\t \x01 Zoë 😀";
  auto parsed = boost::json::parse(encode(request));
  EXPECT_EQ(parsed.at("data").as_string(), request.data);
}

TEST(HttpRpcConnectRequest, ReplacesBytesThatAreNotUtf8LikeGo) {
  ConnectionRequest request;
  // A stray byte, a truncated sequence, an overlong '/', a surrogate; then valid text.
  request.env.headers = {{"cookie",
                          "a\xff"
                          "b\xe2\x82 \xc0\xaf \xed\xa0\x80 Zo\xc3\xab"}};
  std::string body = encode(request);
  boost::system::error_code ec;
  auto parsed = boost::json::parse(body, ec);  // Boost.JSON refuses ill-formed UTF-8
  ASSERT_FALSE(ec) << body;
  const std::string r = "\xef\xbf\xbd";
  EXPECT_EQ(parsed.at("env").at("headers").at("cookie").as_string(),
            "a" + r + "b" + r + r + " " + r + r + " " + r + r + r + " Zo\xc3\xab");
}

// ---- connect replies --------------------------------------------------------------------------

TEST(HttpRpcConnectionResponse, ReadsEveryField) {
  auto r = decode<ConnectionResponse>(
      R"({"status":1,"identifiers":"{\"user_id\":42}","transmissions":["{\"type\":\"welcome\"}"],)"
      R"("error_msg":"","env":{"cstate":{"flags":"[1,2]"},"istate":{"a":"b"}}})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, Status::success);
  EXPECT_EQ(r->identifiers, R"({"user_id":42})");
  EXPECT_EQ(r->transmissions, std::vector<std::string>{R"({"type":"welcome"})"});
  EXPECT_EQ(r->env.cstate, (StringMap{{"flags", "[1,2]"}}));
  EXPECT_EQ(r->env.istate, (StringMap{{"a", "b"}}));
}

TEST(HttpRpcConnectionResponse, AnEmptyObjectIsAnErrorWithNothingElse) {
  auto r = decode<ConnectionResponse>("{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, Status::error);
  EXPECT_TRUE(r->identifiers.empty());
  EXPECT_TRUE(r->transmissions.empty());
  EXPECT_TRUE(r->error_msg.empty());
  EXPECT_TRUE(r->env.cstate.empty());
  EXPECT_TRUE(r->env.istate.empty());
}

TEST(HttpRpcConnectionResponse, NullMeansAbsent) {
  auto r = decode<ConnectionResponse>(
      R"({"status":null,"identifiers":null,"transmissions":null,"error_msg":null,"env":null})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, Status::error);
  EXPECT_TRUE(r->transmissions.empty());
}

TEST(HttpRpcConnectionResponse, ReadsAFailureWithItsDisconnectTransmission) {
  auto r = decode<ConnectionResponse>(
      R"({"status":2,"identifiers":"","transmissions":["{\"type\":\"disconnect\",)"
      R"(\"reason\":\"unauthorized\"}"],"error_msg":"Auth failed","env":{}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, Status::failure);
  EXPECT_EQ(r->error_msg, "Auth failed");
  ASSERT_EQ(r->transmissions.size(), 1u);
}

TEST(HttpRpcStatus, AcceptsTheNumbersAndTheEnumNames) {
  const std::pair<const char*, Status> cases[] = {
      {R"({"status":0})", Status::error},           {R"({"status":1})", Status::success},
      {R"({"status":2})", Status::failure},         {R"({"status":"ERROR"})", Status::error},
      {R"({"status":"SUCCESS"})", Status::success}, {R"({"status":"FAILURE"})", Status::failure},
  };
  for (const auto& [body, status] : cases) {
    auto r = decode<DisconnectResponse>(body);
    ASSERT_TRUE(r) << body;
    EXPECT_EQ(r->status, status) << body;
  }
}

TEST(HttpRpcStatus, RefusesAnythingElse) {
  for (const char* body : {R"({"status":3})", R"({"status":-1})", R"({"status":1.0})",
                           R"({"status":"success"})", R"({"status":"1"})", R"({"status":true})",
                           R"({"status":18446744073709551615})", R"({"status":[1]})"}) {
    std::string why;
    auto r = decode<ConnectionResponse>(body, {}, &why);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error(), Error::bad_reply) << body;
    EXPECT_NE(why.find("`status`"), std::string::npos) << why;
  }
}

// ---- command replies --------------------------------------------------------------------------

TEST(HttpRpcCommandResponse, ReadsEveryField) {
  auto r = decode<CommandResponse>(
      R"({"status":"SUCCESS","disconnect":true,"stop_streams":true,"streams":["a","b"],)"
      R"("transmissions":["t1"],"error_msg":"m","env":{"istate":{"k":"v","gone":""}},)"
      R"("stopped_streams":["c"],"presence":{"type":"join","id":"42","info":"{}","ttl":60}})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, Status::success);
  EXPECT_TRUE(r->disconnect);
  EXPECT_TRUE(r->stop_streams);
  EXPECT_EQ(r->streams, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->transmissions, std::vector<std::string>{"t1"});
  EXPECT_EQ(r->error_msg, "m");
  EXPECT_EQ(r->env.istate, (StringMap{{"gone", ""}, {"k", "v"}}));
  EXPECT_EQ(r->stopped_streams, std::vector<std::string>{"c"});
  ASSERT_TRUE(r->presence);
  EXPECT_EQ(r->presence->type, "join");
  EXPECT_EQ(r->presence->id, "42");
  EXPECT_EQ(r->presence->info, "{}");
  EXPECT_EQ(r->presence->ttl, 60u);
}

TEST(HttpRpcCommandResponse, MissingFieldsAreDefaults) {
  auto r = decode<CommandResponse>(R"({"status":1})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->disconnect);
  EXPECT_FALSE(r->stop_streams);
  EXPECT_TRUE(r->streams.empty());
  EXPECT_TRUE(r->transmissions.empty());
  EXPECT_TRUE(r->stopped_streams.empty());
  EXPECT_FALSE(r->presence);
}

TEST(HttpRpcCommandResponse, ANullStateValueDeletesTheKey) {
  auto r = decode<CommandResponse>(R"({"status":1,"env":{"cstate":{"k":null}}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->env.cstate, (StringMap{{"k", ""}}));
}

TEST(HttpRpcCommandResponse, IgnoresUnknownFields) {
  auto r = decode<CommandResponse>(R"({"status":1,"future":{"x":[1,2]},"streams":["s"]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->streams, std::vector<std::string>{"s"});
}

TEST(HttpRpcCommandResponse, RefusesFieldsOfTheWrongType) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"streams":"a"})", "`streams`"},
      {R"({"streams":["a",1]})", "`streams`"},
      {R"({"streams":["a",null]})", "`streams`"},
      {R"({"transmissions":{"a":"b"}})", "`transmissions`"},
      {R"({"stopped_streams":[["a"]]})", "`stopped_streams`"},
      {R"({"disconnect":"true"})", "`disconnect`"},
      {R"({"stop_streams":1})", "`stop_streams`"},
      {R"({"error_msg":{}})", "`error_msg`"},
      {R"({"env":[]})", "`env`"},
      {R"({"env":{"cstate":["a"]}})", "`env.cstate`"},
      {R"({"env":{"istate":{"k":1}}})", "`env.istate`"},
      {R"({"presence":"join"})", "`presence`"},
      {R"({"presence":{"id":42}})", "`presence.id`"},
      {R"({"presence":{"ttl":-1}})", "`presence.ttl`"},
      {R"({"presence":{"ttl":4294967296}})", "`presence.ttl`"},
      {R"({"presence":{"ttl":1.5}})", "`presence.ttl`"},
  };
  for (const auto& [body, field] : cases) {
    std::string why;
    auto r = decode<CommandResponse>(body, {}, &why);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error(), Error::bad_reply) << body;
    EXPECT_NE(why.find(field), std::string::npos) << body << " -> " << why;
  }
}

TEST(HttpRpcCommandResponse, ExplainsTheFirstProblemOnly) {
  std::string why;
  auto r = decode<CommandResponse>(R"({"status":9,"env":{"cstate":5}})", {}, &why);
  ASSERT_FALSE(r);
  EXPECT_NE(why.find("`status`"), std::string::npos) << why;
}

TEST(HttpRpcConnectionResponse, RefusesIdentifiersThatAreNotAString) {
  auto r = decode<ConnectionResponse>(R"({"status":1,"identifiers":{"user_id":42}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::bad_reply);
}

// ---- disconnect replies -----------------------------------------------------------------------

TEST(HttpRpcDisconnectResponse, ReadsStatusAndMessage) {
  auto r = decode<DisconnectResponse>(R"({"status":0,"error_msg":"boom"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, Status::error);
  EXPECT_EQ(r->error_msg, "boom");
}

// ---- bodies that are not a reply at all -------------------------------------------------------

TEST(HttpRpcGarbageReply, BodiesThatAreNotJsonAreMalformed) {
  const std::string deep(10000, '[');
  for (std::string_view body :
       {std::string_view(""), std::string_view("not json"), std::string_view("{"),
        std::string_view(R"({"status":1} trailing)"), std::string_view("{\"a\":\"\xff\xfe\"}"),
        std::string_view("<html>502 Bad Gateway</html>"), std::string_view(deep)}) {
    auto r = decode<CommandResponse>(body);
    ASSERT_FALSE(r) << body.substr(0, 40);
    EXPECT_EQ(r.error(), Error::malformed_reply) << body.substr(0, 40);
  }
}

TEST(HttpRpcGarbageReply, JsonThatIsNotAnObjectIsABadReply) {
  for (const char* body : {"[1,2]", "\"status\"", "1", "null", "true"}) {
    auto r = decode<ConnectionResponse>(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error(), Error::bad_reply) << body;
  }
}

TEST(HttpRpcReplyLimit, ABodyOverTheLimitIsRefusedBeforeParsing) {
  std::string body = R"({"status":1,"error_msg":")" + std::string(2000, 'x') + R"("})";
  auto r = decode<DisconnectResponse>(body, DecodeOptions{1024});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::reply_too_large);
  EXPECT_TRUE(decode<DisconnectResponse>(body, DecodeOptions{body.size()}));
}

TEST(HttpRpcReplyLimit, TheDefaultLimitIsSixteenMebibytes) {
  EXPECT_EQ(DecodeOptions{}.max_bytes, 16u << 20);
}

}  // namespace
}  // namespace cablecast::rpc::http
