#include "streams/signed_stream_channel.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/serialize.hpp>

#include "auth/message_verifier.hpp"
#include "auth/secrets.hpp"
#include "fake_adapter.hpp"
#include "fake_transport.hpp"
#include "hub/hub.hpp"
#include "session/session.hpp"
#include "test_loop.hpp"

namespace cablecast::streams {
namespace {

namespace json = boost::json;

// protocol.md §7.7: raw key "s3Krit" signs "chat/2023" as below.
const std::string kSecret = "s3Krit";
const std::string kSigned =
    "ImNoYXQvMjAyMyI=--2b2e054b6413bf3bc7e8bbad2f68962aa2ba19821800ccbd8de6fd7314e8320c";

std::string tampered(std::string signed_name) {
  signed_name.back() = signed_name.back() == '0' ? '1' : '0';
  return signed_name;
}

// --- The decision alone ---

const SignedStreamPolicy kSignedOnly{.key = kSecret};
const SignedStreamPolicy kWithPublic{.key = kSecret, .allow_public_streams = true};

TEST(RequestedStream, IsTheVerifiedSignedName) {
  EXPECT_EQ(requested_stream({{"signed_stream_name", kSigned}}, kSignedOnly).value(), "chat/2023");
  EXPECT_EQ(requested_stream({{"signed_stream_name", tampered(kSigned)}}, kSignedOnly).error(),
            auth::SignedStreamError::bad_signature);
}

TEST(RequestedStream, TakesAPublicNameOnlyWhenAllowed) {
  EXPECT_EQ(requested_stream({{"stream_name", "chat/42"}}, kWithPublic).value(), "chat/42");
  EXPECT_EQ(requested_stream({{"stream_name", "chat/42"}}, kSignedOnly).error(),
            StreamRequestError::public_streams_off);
}

TEST(RequestedStream, PrefersTheSignedNameAndTreatsEmptyAsAbsent) {
  EXPECT_EQ(
      requested_stream({{"signed_stream_name", kSigned}, {"stream_name", "other"}}, kWithPublic)
          .value(),
      "chat/2023");
  // A bad signature is not rescued by a public name next to it.
  EXPECT_FALSE(requested_stream(
      {{"signed_stream_name", tampered(kSigned)}, {"stream_name", "other"}}, kWithPublic));
  EXPECT_EQ(
      requested_stream({{"signed_stream_name", ""}, {"stream_name", "other"}}, kWithPublic).value(),
      "other");
  EXPECT_EQ(requested_stream({{"stream_name", ""}}, kWithPublic).error(),
            StreamRequestError::no_stream);
  EXPECT_EQ(requested_stream({{"channel", "$pubsub"}}, kWithPublic).error(),
            StreamRequestError::no_stream);
}

TEST(RequestedStream, RefusesParamsThatAreNotStrings) {
  EXPECT_EQ(requested_stream({{"signed_stream_name", 5}}, kSignedOnly).error(),
            StreamRequestError::param_not_a_string);
  EXPECT_EQ(requested_stream({{"stream_name", json::array{"a"}}}, kWithPublic).error(),
            StreamRequestError::param_not_a_string);
  EXPECT_EQ(requested_stream({{"signed_stream_name", nullptr}, {"stream_name", "a"}}, kWithPublic)
                .error(),
            StreamRequestError::param_not_a_string);
}

TEST(RequestedStream, RefusesEverythingWithoutAKey) {
  SignedStreamPolicy keyless{.key = ""};
  EXPECT_EQ(requested_stream({{"signed_stream_name", kSigned}}, keyless).error(),
            auth::SignedStreamError::no_key);
}

TEST(ChannelClasses, CarryTheirNames) {
  EXPECT_EQ(pubsub_channel_class(kSecret, false).name, "$pubsub");
  EXPECT_EQ(pubsub_channel_class(kSecret, false, {}, "custom").name, "custom");
  EXPECT_EQ(turbo_streams_channel_class(kSecret).name, "Turbo::StreamsChannel");
  EXPECT_TRUE(turbo_streams_channel_class(kSecret).actions.empty());
}

// --- Through a real session ---

struct SignedStreamSessionTest : ::testing::Test, testing::TestLoop {
  SignedStreamSessionTest() {
    channels.emplace("$pubsub", pubsub_channel_class(kSecret, /*allow_public_streams=*/false));
    channels.emplace("public", pubsub_channel_class(kSecret, true, {}, "public"));
    channels.emplace("Turbo::StreamsChannel", turbo_streams_channel_class(turbo_key));
    hook = [](const ConnectionRequest&) { return ConnectResult::accept({}); };
    ws::Request request{boost::beast::http::verb::get, "/cable", 11};
    session = std::make_unique<session::Session>(env, transport);
    session->on_open(ws::UpgradeInfo{request, "127.0.0.1", "actioncable-v1-json"});
    transport.sent.clear();  // the welcome
  }
  ~SignedStreamSessionTest() override {
    session->on_closed();
    session.reset();
    pool.join();
  }

  // Subscribes with `identifier`; transport.sent then holds the frames sent in answer.
  void subscribe(const json::object& identifier) {
    transport.sent.clear();
    id = json::serialize(identifier);
    session->on_text(json::serialize(json::object{{"command", "subscribe"}, {"identifier", id}}));
    drain();
  }
  std::string answer(std::string_view type) const {
    return json::serialize(json::object{{"identifier", id}, {"type", type}});
  }

  // Turbo's key for a test secret_key_base, as Rails derives it.
  const std::string turbo_key = auth::turbo_signing_key(std::string(64, 'k'), auth::Digest::sha256);

  testing::FakeTransport transport;
  std::unique_ptr<session::Session> session;
  std::string id;
};

TEST_F(SignedStreamSessionTest, PubSubStreamsFromAVerifiedNameAndDeliversItsBroadcasts) {
  subscribe({{"channel", "$pubsub"}, {"signed_stream_name", kSigned}});
  EXPECT_EQ(transport.sent, std::vector<std::string>{answer("confirm_subscription")});
  EXPECT_EQ(adapter.subscribes, std::vector<std::string>{"chat/2023"});
  transport.sent.clear();
  shard.deliver("chat/2023", std::make_shared<const std::string>(R"({"text":"hi"})"));
  EXPECT_EQ(transport.sent, std::vector<std::string>{json::serialize(
                                json::object{{"identifier", id}, {"message", {{"text", "hi"}}}})});
}

TEST_F(SignedStreamSessionTest, PubSubRejectsTamperedMissingAndUnallowedPublicNames) {
  for (const json::object& identifier :
       {json::object{{"channel", "$pubsub"}, {"signed_stream_name", tampered(kSigned)}},
        json::object{{"channel", "$pubsub"}},
        json::object{{"channel", "$pubsub"}, {"stream_name", "chat/2023"}}}) {
    subscribe(identifier);
    EXPECT_EQ(transport.sent, std::vector<std::string>{answer("reject_subscription")}) << id;
  }
  EXPECT_TRUE(adapter.subscribes.empty());
}

TEST_F(SignedStreamSessionTest, PublicStreamsWhenAllowed) {
  subscribe({{"channel", "public"}, {"stream_name", "chat/42"}});
  EXPECT_EQ(transport.sent, std::vector<std::string>{answer("confirm_subscription")});
  EXPECT_EQ(adapter.subscribes, std::vector<std::string>{"chat/42"});
}

TEST_F(SignedStreamSessionTest, TurboStreamsFromANameSignedWithItsKeyOnly) {
  const std::string signed_room = auth::sign_stream_name("room", turbo_key, auth::Digest::sha256);
  subscribe({{"channel", "Turbo::StreamsChannel"}, {"signed_stream_name", signed_room}});
  EXPECT_EQ(transport.sent, std::vector<std::string>{answer("confirm_subscription")});
  EXPECT_EQ(adapter.subscribes, std::vector<std::string>{"room"});
  // Signed with the $pubsub secret, or public: Turbo refuses both.
  subscribe({{"channel", "Turbo::StreamsChannel"}, {"signed_stream_name", kSigned}});
  EXPECT_EQ(transport.sent, std::vector<std::string>{answer("reject_subscription")});
  subscribe({{"channel", "Turbo::StreamsChannel"}, {"stream_name", "room2"}});
  EXPECT_EQ(transport.sent, std::vector<std::string>{answer("reject_subscription")});
  EXPECT_EQ(adapter.subscribes, std::vector<std::string>{"room"});
}

}  // namespace
}  // namespace cablecast::streams
