// Cross-checks against the real ActiveSupport (Debian's ruby-activesupport), through
// tests/support/rails_signing.rb: what Rails signs we accept, what we sign Rails accepts, what
// is tampered both refuse, and both derive the same Turbo keys.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "auth/hmac.hpp"
#include "auth/message_verifier.hpp"
#include "auth/secrets.hpp"
#include "run_program.hpp"

namespace cablecast::auth {
namespace {

namespace json = boost::json;

const std::string kRailsScript =
    std::string(CABLECAST_SOURCE_DIR) + "/tests/support/rails_signing.rb";

// Names as Turbo and AnyCable apps make them: plain, GlobalID params, slashes, Base64 that needs
// "+" and "/", quotes, backslashes, non-ASCII.
const std::vector<std::string> kRailsNames = {
    "room",          "chat/2023", "Z2lkOi8vbXktYXBwL1Bvc3QvMQ:comments", ">>>>?", "a\"b\\c",
    "ümlaut ☃ 日本", "x"};

class RailsCrossCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    auto probe = testing::run_program({"ruby", "-ractive_support", "-e", ""});
    if (!probe || probe->exit_status != 0) {
      GTEST_SKIP() << "ruby with ActiveSupport is not installed (Debian: ruby-activesupport); "
                      "the cross-check against Rails cannot run";
    }
  }

  // Runs the requests through Ruby; one result per request.
  static json::array rails(const json::array& requests) {
    auto output = testing::run_program({"ruby", kRailsScript, json::serialize(requests)});
    EXPECT_TRUE(output && output->exit_status == 0) << "ruby " << kRailsScript << " failed";
    if (!output || output->exit_status != 0) return {};
    json::array results = json::parse(output->out).as_array();
    EXPECT_EQ(results.size(), requests.size());
    return results;
  }

  static std::string skb() {
    std::string base;
    for (int i = 0; i < 4; ++i)
      base += "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    return base;
  }
};

TEST_F(RailsCrossCheck, BothDeriveTheSameTurboKeys) {
  json::array results = rails({
      {{"op", "turbo_key"}, {"digest", "SHA256"}, {"secret_key_base", skb()}},
      {{"op", "turbo_key"}, {"digest", "SHA1"}, {"secret_key_base", skb()}},
  });
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].as_string(), to_hex(turbo_signing_key(skb(), Digest::sha256)));
  EXPECT_EQ(results[1].as_string(), to_hex(turbo_signing_key(skb(), Digest::sha1)));
}

TEST_F(RailsCrossCheck, WhatRailsSignsVerifiesAndMatchesOurSignature) {
  const std::vector<std::string> keys = {"s3Krit", turbo_signing_key(skb(), Digest::sha256),
                                         turbo_signing_key(skb(), Digest::sha1)};
  json::array requests;
  for (const auto& key : keys) {
    for (const auto& name : kRailsNames) {
      requests.push_back(
          {{"op", "sign"}, {"digest", "SHA256"}, {"key_hex", to_hex(key)}, {"name", name}});
    }
  }
  json::array results = rails(requests);
  ASSERT_EQ(results.size(), keys.size() * kRailsNames.size());
  std::size_t i = 0;
  for (const auto& key : keys) {
    for (const auto& name : kRailsNames) {
      const std::string signed_name(results[i++].as_string());
      auto verified = verify_signed_stream_name(signed_name, key, Digest::sha256);
      ASSERT_TRUE(verified) << signed_name << ": " << verified.error().message();
      EXPECT_EQ(*verified, name);
      EXPECT_EQ(sign_stream_name(name, key, Digest::sha256), signed_name);
    }
  }
}

TEST_F(RailsCrossCheck, Sha1VerifiersAgreeToo) {
  json::array results = rails(
      {{{"op", "sign"}, {"digest", "SHA1"}, {"key_hex", to_hex("s3Krit")}, {"name", "room"}}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(verify_signed_stream_name(results[0].as_string(), "s3Krit", Digest::sha1).value(),
            "room");
  EXPECT_FALSE(verify_signed_stream_name(results[0].as_string(), "s3Krit", Digest::sha256));
}

TEST_F(RailsCrossCheck, UrlSafeSignedNamesVerify) {
  json::array requests;
  for (const auto& name : kRailsNames) {
    requests.push_back({{"op", "sign_url_safe"},
                        {"digest", "SHA256"},
                        {"key_hex", to_hex("s3Krit")},
                        {"name", name}});
  }
  json::array results = rails(requests);
  ASSERT_EQ(results.size(), kRailsNames.size());
  for (std::size_t i = 0; i < kRailsNames.size(); ++i) {
    EXPECT_EQ(verify_signed_stream_name(results[i].as_string(), "s3Krit", Digest::sha256).value(),
              kRailsNames[i])
        << results[i].as_string();
  }
}

TEST_F(RailsCrossCheck, RailsAcceptsWhatWeSignAndBothRefuseTamperedNames) {
  const std::string key = turbo_signing_key(skb(), Digest::sha256);
  const std::string good = sign_stream_name("chat/2023", key, Digest::sha256);
  std::string bad_digest = good;
  bad_digest.back() = bad_digest.back() == '0' ? '1' : '0';
  std::string bad_payload = good;
  bad_payload[2] = bad_payload[2] == 'N' ? 'M' : 'N';
  const std::string wrong_key = sign_stream_name("chat/2023", "other", Digest::sha256);
  const std::vector<std::string> refused = {bad_digest, bad_payload, wrong_key,
                                            good.substr(0, good.size() - 1)};

  json::array requests{
      {{"op", "verify"}, {"digest", "SHA256"}, {"key_hex", to_hex(key)}, {"signed", good}}};
  for (const auto& signed_name : refused) {
    requests.push_back({{"op", "verify"},
                        {"digest", "SHA256"},
                        {"key_hex", to_hex(key)},
                        {"signed", signed_name}});
  }
  json::array results = rails(requests);
  ASSERT_EQ(results.size(), 1 + refused.size());
  EXPECT_EQ(results[0], "chat/2023");
  for (std::size_t i = 0; i < refused.size(); ++i) {
    EXPECT_TRUE(results[1 + i].is_null()) << "Rails accepted " << refused[i];
    EXPECT_FALSE(verify_signed_stream_name(refused[i], key, Digest::sha256)) << refused[i];
  }
}

}  // namespace
}  // namespace cablecast::auth
