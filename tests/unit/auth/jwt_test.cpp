#include "auth/jwt.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "auth/base64.hpp"
#include "auth/hmac.hpp"

namespace cablecast::auth {
namespace {

const std::string kJwtSecret = "qwerty";
constexpr std::int64_t kJwtNow = 1'700'000'000;

// A token with any header and payload text, signed with HMAC `digest` (or left unsigned).
std::string make_token(const std::string& header, const std::string& payload,
                       Digest digest = Digest::sha256, const std::string& secret = kJwtSecret) {
  std::string input = encode_base64url(header) + "." + encode_base64url(payload);
  return input + "." + encode_base64url(hmac(digest, secret, input));
}

const std::string kHs256 = R"({"alg":"HS256","typ":"JWT"})";
const std::string kClaims = R"({"ext":"{\"user_id\":42}","exp":1700000060})";

TEST(VerifyJwt, AcceptsAValidTokenAndReturnsItsIdentifiers) {
  auto identity = verify_jwt(make_token(kHs256, kClaims), kJwtSecret, kJwtNow);
  ASSERT_TRUE(identity) << identity.error().message();
  EXPECT_EQ(identity->identifiers_json, R"({"user_id":42})");
  EXPECT_EQ(identity->identifiers.at("user_id"), 42);
  EXPECT_EQ(identity->expires_at, 1700000060);
}

TEST(VerifyJwt, AcceptsEveryHmacAlgorithmAndNoExpiry) {
  const std::string claims = R"({"ext":"{}"})";
  for (auto [alg, digest] : {std::pair{"HS256", Digest::sha256}, std::pair{"HS384", Digest::sha384},
                             std::pair{"HS512", Digest::sha512}}) {
    auto identity = verify_jwt(make_token(std::string(R"({"alg":")") + alg + "\"}", claims, digest),
                               kJwtSecret, kJwtNow);
    ASSERT_TRUE(identity) << alg << ": " << identity.error().message();
    EXPECT_TRUE(identity->identifiers.empty());
    EXPECT_FALSE(identity->expires_at);
  }
}

TEST(VerifyJwt, SignJwtMakesTokensItAccepts) {
  auto identity = verify_jwt(sign_jwt(kClaims, kJwtSecret, Digest::sha512), kJwtSecret, kJwtNow);
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->identifiers_json, R"({"user_id":42})");
}

TEST(VerifyJwt, ExpiresAtTheExpSecond) {
  const std::string token = make_token(kHs256, kClaims);
  EXPECT_TRUE(verify_jwt(token, kJwtSecret, 1700000059));
  EXPECT_EQ(verify_jwt(token, kJwtSecret, 1700000060).error(), JwtError::token_expired);
  EXPECT_EQ(verify_jwt(token, kJwtSecret, 1800000000).error(), JwtError::token_expired);
  // A fractional exp (RFC 7519 NumericDate) counts too.
  auto fractional = make_token(kHs256, R"({"ext":"{}","exp":1700000000.5})");
  EXPECT_TRUE(verify_jwt(fractional, kJwtSecret, 1700000000));
  EXPECT_EQ(verify_jwt(fractional, kJwtSecret, 1700000001).error(), JwtError::token_expired);
  EXPECT_EQ(verify_jwt(make_token(kHs256, R"({"ext":"{}","exp":0})"), kJwtSecret, kJwtNow).error(),
            JwtError::token_expired);
}

TEST(VerifyJwt, ExpiredMapsToTokenExpiredAndEverythingElseToUnauthorized) {
  EXPECT_EQ(jwt_disconnect_reason(JwtError::token_expired), "token_expired");
  EXPECT_EQ(jwt_disconnect_reason(JwtError::bad_signature), "unauthorized");
  EXPECT_EQ(jwt_disconnect_reason(JwtError::malformed), "unauthorized");
  EXPECT_EQ(jwt_disconnect_reason(JwtError::not_yet_valid), "unauthorized");
}

TEST(VerifyJwt, RefusesAForgedToken) {
  EXPECT_EQ(
      verify_jwt(make_token(kHs256, kClaims, Digest::sha256, "guess"), kJwtSecret, kJwtNow).error(),
      JwtError::bad_signature);
  // An expired forgery is a forgery, not "expired": the signature is checked first.
  auto forged_expired = make_token(kHs256, R"({"ext":"{}","exp":1})", Digest::sha256, "guess");
  EXPECT_EQ(verify_jwt(forged_expired, kJwtSecret, kJwtNow).error(), JwtError::bad_signature);
  // Claims swapped under a valid signature.
  std::string token = make_token(kHs256, kClaims);
  std::string other = make_token(kHs256, R"({"ext":"{\"user_id\":1}"})");
  std::string spliced = token.substr(0, token.find('.')) +
                        other.substr(other.find('.'), other.rfind('.') - other.find('.')) +
                        token.substr(token.rfind('.'));
  EXPECT_EQ(verify_jwt(spliced, kJwtSecret, kJwtNow).error(), JwtError::bad_signature);
  // The signature's last character changed.
  std::string tampered = token;
  tampered.back() = tampered.back() == 'A' ? 'Q' : 'A';
  EXPECT_FALSE(verify_jwt(tampered, kJwtSecret, kJwtNow));
}

TEST(VerifyJwt, RefusesAlgNoneAndNonHmacAlgorithms) {
  const std::string payload = encode_base64url(kClaims);
  for (const std::string& header :
       std::vector<std::string>{R"({"alg":"none"})", R"({"alg":"None"})", R"({"alg":"RS256"})",
                                R"({"alg":"ES256"})", R"({"alg":"HS1"})", R"({"alg":"hs256"})"}) {
    std::string unsigned_token = encode_base64url(header) + "." + payload + ".";
    EXPECT_EQ(verify_jwt(unsigned_token, kJwtSecret, kJwtNow).error(),
              JwtError::unsupported_algorithm)
        << header;
  }
  EXPECT_EQ(verify_jwt(make_token(R"({"typ":"JWT"})", kClaims), kJwtSecret, kJwtNow).error(),
            JwtError::malformed);
  EXPECT_EQ(verify_jwt(make_token(R"({"alg":256})", kClaims), kJwtSecret, kJwtNow).error(),
            JwtError::malformed);
}

TEST(VerifyJwt, RefusesASignatureMadeWithAnotherAlgorithmThanTheHeaderSays) {
  EXPECT_EQ(verify_jwt(make_token(kHs256, kClaims, Digest::sha512), kJwtSecret, kJwtNow).error(),
            JwtError::bad_signature);
  EXPECT_EQ(
      verify_jwt(make_token(R"({"alg":"HS512"})", kClaims, Digest::sha256), kJwtSecret, kJwtNow)
          .error(),
      JwtError::bad_signature);
}

TEST(VerifyJwt, RefusesMalformedTokens) {
  const std::string token = make_token(kHs256, kClaims);
  const std::string header = token.substr(0, token.find('.'));
  for (const std::string& bad :
       {std::string(""), std::string("."), std::string(".."), std::string("abc"), header,
        header + ".", token + ".", token + ".x.y", "!" + token, token + "=", token.substr(1)}) {
    auto result = verify_jwt(bad, kJwtSecret, kJwtNow);
    ASSERT_FALSE(result) << bad;
    EXPECT_NE(result.error(), JwtError::token_expired);
  }
  // Header or payload that is not a JSON object, or padded base64.
  EXPECT_EQ(verify_jwt(make_token("[]", kClaims), kJwtSecret, kJwtNow).error(),
            JwtError::malformed);
  EXPECT_EQ(verify_jwt(make_token(kHs256, "\"x\""), kJwtSecret, kJwtNow).error(),
            JwtError::malformed);
  EXPECT_EQ(verify_jwt(make_token(kHs256, "{"), kJwtSecret, kJwtNow).error(), JwtError::malformed);
  // Padded base64 in a segment, even under a correct signature.
  std::string padded_header = encode_base64(R"({"alg":"HS256","typ":"JWTx"})");
  ASSERT_EQ(padded_header.back(), '=');
  std::string input = padded_header + "." + encode_base64url(kClaims);
  std::string padded = input + "." + encode_base64url(hmac(Digest::sha256, kJwtSecret, input));
  EXPECT_EQ(verify_jwt(padded, kJwtSecret, kJwtNow).error(), JwtError::malformed);
  // A header with extensions we must understand but do not.
  EXPECT_EQ(verify_jwt(make_token(R"({"alg":"HS256","crit":["b64"],"b64":false})", kClaims),
                       kJwtSecret, kJwtNow)
                .error(),
            JwtError::malformed);
  // Claims of the wrong type.
  EXPECT_EQ(verify_jwt(make_token(kHs256, R"({"ext":"{}","exp":"tomorrow"})"), kJwtSecret, kJwtNow)
                .error(),
            JwtError::malformed);
  EXPECT_EQ(
      verify_jwt(make_token(kHs256, R"({"ext":"{}","nbf":null})"), kJwtSecret, kJwtNow).error(),
      JwtError::malformed);
}

TEST(VerifyJwt, HonoursNotBefore) {
  auto token = make_token(kHs256, R"({"ext":"{}","nbf":1700000010})");
  EXPECT_EQ(verify_jwt(token, kJwtSecret, kJwtNow).error(), JwtError::not_yet_valid);
  EXPECT_TRUE(verify_jwt(token, kJwtSecret, 1700000010));
}

TEST(VerifyJwt, NeedsExtAsAStringHoldingAJsonObject) {
  for (const std::string& claims : std::vector<std::string>{
           R"({})", R"({"ext":{"user_id":42}})", R"({"ext":42})", R"({"ext":"[1]"})",
           R"({"ext":"not json"})", R"({"ext":"\"str\""})", R"({"sub":"42"})"}) {
    EXPECT_EQ(verify_jwt(make_token(kHs256, claims), kJwtSecret, kJwtNow).error(),
              JwtError::missing_identifiers)
        << claims;
  }
}

TEST(VerifyJwt, RefusesHugeTokensAndWorksOnlyWithASecret) {
  std::string huge(kMaxJwtBytes + 1, 'a');
  EXPECT_EQ(verify_jwt(huge, kJwtSecret, kJwtNow).error(), JwtError::too_large);
  std::string big_claims = R"({"ext":"{\"pad\":\")" + std::string(kMaxJwtBytes, 'p') + R"(\"}"})";
  EXPECT_EQ(verify_jwt(make_token(kHs256, big_claims), kJwtSecret, kJwtNow).error(),
            JwtError::too_large);
  // A token signed with the empty key is refused when no secret is configured.
  EXPECT_EQ(verify_jwt(make_token(kHs256, kClaims, Digest::sha256, ""), "", kJwtNow).error(),
            JwtError::no_secret);
}

}  // namespace
}  // namespace cablecast::auth
