// Cross-checks against the JWT libraries AnyCable apps sign with (npm `jose`, and the
// `identificator` of `@anycable/serverless-js`), through tests/support/jwt_tokens.mjs: their
// tokens verify here (or are refused as they should be), and jose accepts the tokens we sign.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <ctime>
#include <string>

#include "auth/jwt.hpp"
#include "run_program.hpp"

namespace cablecast::auth {
namespace {

namespace json = boost::json;

const std::string kJoseScript = std::string(CABLECAST_SOURCE_DIR) + "/tests/support/jwt_tokens.mjs";
const std::string kJoseSecret = "qwerty";

class JoseCrossCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    auto probe = testing::run_program({"node", "--version"});
    if (!probe || probe->exit_status != 0) {
      GTEST_SKIP() << "node is not installed; the cross-check against jose cannot run";
    }
  }

  // Runs the requests through node; one result per request. Tokens carry real clock times, so
  // the checks below use the real clock too, with margins of minutes.
  static json::array node(const json::array& requests) {
    auto output = testing::run_program({"node", kJoseScript, json::serialize(requests)});
    EXPECT_TRUE(output && output->exit_status == 0)
        << "node " << kJoseScript << " failed (npm packages jose and @anycable/serverless-js are "
        << "installed by scripts/install-deps.sh)";
    if (!output || output->exit_status != 0) return {};
    json::array results = json::parse(output->out).as_array();
    EXPECT_EQ(results.size(), requests.size());
    return results;
  }

  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
};

TEST_F(JoseCrossCheck, AcceptsJoseTokensOfEveryHmacAlgorithm) {
  const std::string ext = R"({"user_id":"42","room":"a/b"})";
  json::array results = node({
      {{"op", "sign"},
       {"alg", "HS256"},
       {"secret", kJoseSecret},
       {"claims", {{"ext", ext}}},
       {"exp", "1h"}},
      {{"op", "sign"},
       {"alg", "HS384"},
       {"secret", kJoseSecret},
       {"claims", {{"ext", ext}}},
       {"exp", "1h"}},
      {{"op", "sign"}, {"alg", "HS512"}, {"secret", kJoseSecret}, {"claims", {{"ext", ext}}}},
  });
  ASSERT_EQ(results.size(), 3u);
  for (const auto& token : results) {
    auto identity = verify_jwt(token.as_string(), kJoseSecret, now);
    ASSERT_TRUE(identity) << token.as_string() << ": " << identity.error().message();
    EXPECT_EQ(identity->identifiers_json, ext);
    EXPECT_EQ(identity->identifiers.at("room"), "a/b");
  }
}

TEST_F(JoseCrossCheck, RefusesExpiredForgedAndIdentifierlessJoseTokens) {
  json::array results = node({
      {{"op", "sign"},
       {"alg", "HS256"},
       {"secret", kJoseSecret},
       {"claims", {{"ext", "{}"}}},
       {"exp", now - 60}},
      {{"op", "sign"},
       {"alg", "HS256"},
       {"secret", "not-the-secret"},
       {"claims", {{"ext", "{}"}}},
       {"exp", "1h"}},
      {{"op", "sign"},
       {"alg", "HS256"},
       {"secret", kJoseSecret},
       {"claims", {{"ext", {{"user_id", 42}}}}},
       {"exp", "1h"}},
  });
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(verify_jwt(results[0].as_string(), kJoseSecret, now).error(), JwtError::token_expired);
  EXPECT_EQ(verify_jwt(results[1].as_string(), kJoseSecret, now).error(), JwtError::bad_signature);
  // `ext` as an object, not a string: AnyCable's Go server refuses it, and so do we.
  EXPECT_EQ(verify_jwt(results[2].as_string(), kJoseSecret, now).error(),
            JwtError::missing_identifiers);
}

TEST_F(JoseCrossCheck, AcceptsServerlessJsIdentificatorTokensUntilTheyExpire) {
  json::array results = node({
      {{"op", "identificator"},
       {"secret", kJoseSecret},
       {"exp", "1h"},
       {"identifiers", {{"user_id", 7}, {"name", "ada"}}}},
      {{"op", "identificator"},
       {"secret", kJoseSecret},
       {"exp", now - 60},
       {"identifiers", {{"user_id", 7}}}},
  });
  ASSERT_EQ(results.size(), 2u);
  auto identity = verify_jwt(results[0].as_string(), kJoseSecret, now);
  ASSERT_TRUE(identity) << identity.error().message();
  EXPECT_EQ(identity->identifiers.at("user_id"), 7);
  EXPECT_EQ(identity->identifiers.at("name"), "ada");
  ASSERT_TRUE(identity->expires_at);
  EXPECT_GT(*identity->expires_at, now + 3000);
  // Valid an hour from now minus a minute; expired two hours from now.
  EXPECT_TRUE(verify_jwt(results[0].as_string(), kJoseSecret, now + 3540));
  EXPECT_EQ(verify_jwt(results[0].as_string(), kJoseSecret, now + 7200).error(),
            JwtError::token_expired);
  EXPECT_EQ(verify_jwt(results[1].as_string(), kJoseSecret, now).error(), JwtError::token_expired);
  EXPECT_EQ(verify_jwt(results[0].as_string(), "another", now).error(), JwtError::bad_signature);
}

TEST_F(JoseCrossCheck, JoseAcceptsWhatWeSign) {
  const std::string claims = R"({"ext":"{\"user_id\":1}","exp":)" + std::to_string(now + 600) + "}";
  json::array results = node({
      {{"op", "verify"},
       {"secret", kJoseSecret},
       {"token", sign_jwt(claims, kJoseSecret, Digest::sha256)}},
      {{"op", "verify"},
       {"secret", kJoseSecret},
       {"token", sign_jwt(claims, kJoseSecret, Digest::sha512)}},
      {{"op", "verify"},
       {"secret", "other"},
       {"token", sign_jwt(claims, kJoseSecret, Digest::sha256)}},
  });
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].at("ext"), R"({"user_id":1})");
  EXPECT_EQ(results[1].at("ext"), R"({"user_id":1})");
  EXPECT_EQ(results[2].at("error"), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
}

}  // namespace
}  // namespace cablecast::auth
