#include "auth/secrets.hpp"

#include <gtest/gtest.h>

#include <string>

#include "auth/hmac.hpp"

namespace cablecast::auth {
namespace {

using namespace std::string_literals;

TEST(Hmac, MatchesRfc4231TestCase2) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hmac, OtherDigestsAndRawOutput) {
  EXPECT_EQ(hmac_hex(Digest::sha1, "Jefe", "what do ya want for nothing?"),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(hmac(Digest::sha512, "k", "d").size(), 64u);
  EXPECT_EQ(digest_size(Digest::sha1), 20u);
  EXPECT_EQ(digest_size(Digest::sha384), 48u);
}

TEST(Hmac, AcceptsAnEmptyKeyAndBinaryBytes) {
  EXPECT_EQ(hmac_sha256_hex("", ""),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  EXPECT_NE(hmac_sha256_hex("a\0b"s, "x"), hmac_sha256_hex("a", "x"));
}

TEST(ToHex, IsLowercaseTwoDigitsPerByte) { EXPECT_EQ(to_hex("\x00\x0f\xff"s), "000fff"); }

TEST(EqualConstantTime, ComparesWholeStrings) {
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_TRUE(equal_constant_time("", ""));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "xbc"));
  EXPECT_FALSE(equal_constant_time("abc", "ab"));
  EXPECT_FALSE(equal_constant_time("ab", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", ""));
  EXPECT_FALSE(equal_constant_time("a\0c"s, "a\0d"s));
}

// The secret is the HMAC key and the phrase the data. AnyCable publishes one vector:
// features/sse.testfile, `--secret=qwerty`, api key = bdd0…d096 for the phrase "api-cable".
TEST(DeriveFromSecret, KeysTheHmacWithTheSecretAsAnyCableDoes) {
  EXPECT_EQ(hmac_sha256_hex("qwerty", "api-cable"),
            "bdd0244b3664404d03b7d0c2f1b946dc4fc6c13fdcbfa2be62a4a28deb04d096");
  // `echo -n broadcast-cable | openssl dgst -sha256 -hmac qwerty`, and likewise rpc-cable.
  DerivedSecrets secrets = derive_from_secret("qwerty");
  EXPECT_EQ(secrets.broadcast_key,
            "42923a28b760e667fc92f7c6123bb07a282822b329dd2ef48e7aee7830d98485");
  EXPECT_EQ(secrets.rpc_secret, "57c40610d142fe7d7999be4e23dfba4f42c3c542e1f278063e8e3b6a30b0c2bd");
  EXPECT_EQ(secrets.jwt_secret, "qwerty");
  EXPECT_EQ(secrets.streams_secret, "qwerty");
}

// protocol.md §8.5: secret_key_base = "0123456789abcdef" × 8.
TEST(TurboSigningKey, IsRailsKeyGeneratorOutputForBothDigests) {
  std::string skb;
  for (int i = 0; i < 8; ++i) skb += "0123456789abcdef";
  EXPECT_EQ(to_hex(turbo_signing_key(skb, Digest::sha256)),
            "7abcd5758752313f1d691ad878b93c5c7e9bf71bd853e9b10c3d2861233525e8"
            "98d0a04aae89abc8b5da1e1ccbd749cccb3a93a9900de3d53189b40191b5a460");
  EXPECT_EQ(to_hex(turbo_signing_key(skb, Digest::sha1)),
            "f2162065152bf45163868492b2f081295f938a68f7a18b6d40bc9d15e94b8ea0"
            "819b3011cf2f3c1b9228b8e722f706453e0257e9da2530eee8d59875740244a1");
}

}  // namespace
}  // namespace cablecast::auth
