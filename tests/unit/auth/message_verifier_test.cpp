#include "auth/message_verifier.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "auth/base64.hpp"
#include "auth/hmac.hpp"
#include "auth/secrets.hpp"

namespace cablecast::auth {
namespace {

using namespace std::string_literals;

// protocol.md §7.7: AnyCable's features/turbo_rpc_less.testfile, reproduced with Rails.
const std::string kKey = "s3Krit";
const std::string kSigned =
    "ImNoYXQvMjAyMyI=--2b2e054b6413bf3bc7e8bbad2f68962aa2ba19821800ccbd8de6fd7314e8320c";

// Signs an arbitrary payload (already Base64) the way MessageVerifier signs, for payloads
// Rails would never produce itself.
std::string sign_payload(const std::string& encoded, Digest digest = Digest::sha256) {
  return encoded + "--" + hmac_hex(digest, kKey, encoded);
}

TEST(VerifySignedStreamName, AcceptsTheKnownAnyCableVector) {
  auto name = verify_signed_stream_name(kSigned, kKey, Digest::sha256);
  ASSERT_TRUE(name) << name.error().message();
  EXPECT_EQ(*name, "chat/2023");
}

TEST(VerifySignedStreamName, AcceptsTheTurboVectorsWithDerivedKeys) {
  std::string skb;
  for (int i = 0; i < 8; ++i) skb += "0123456789abcdef";
  const std::string sha256_key = turbo_signing_key(skb, Digest::sha256);
  const std::string sha1_key = turbo_signing_key(skb, Digest::sha1);
  // protocol.md §8.5; both keys sign with MessageVerifier's SHA256.
  EXPECT_EQ(verify_signed_stream_name(
                "InJvb20i--f5ff359ee387851bde7ad20a720e9f916b63f28ce6fb11baf91f54f7e1dfd27d",
                sha256_key, Digest::sha256)
                .value(),
            "room");
  EXPECT_EQ(verify_signed_stream_name(
                "InJvb20i--ddd35ef592a71d0da2b3248279db70d1e54a61c21a3497d7f1aa0d7f88dc5706",
                sha1_key, Digest::sha256)
                .value(),
            "room");
  EXPECT_EQ(verify_signed_stream_name("IloybGtPaTh2YlhrdFlYQndMMUJ2YzNRdk1ROmNvbW1lbnRzIg==--"
                                      "497ab1e53517bd14b2441c7330c29cc015825f4e59c29e66918b60dba"
                                      "ab9dd30",
                                      sha256_key, Digest::sha256)
                .value(),
            "Z2lkOi8vbXktYXBwL1Bvc3QvMQ:comments");
}

TEST(SignStreamName, ProducesTheKnownVectorAndRoundTrips) {
  EXPECT_EQ(sign_stream_name("chat/2023", kKey, Digest::sha256), kSigned);
  for (Digest digest : {Digest::sha1, Digest::sha256, Digest::sha512}) {
    for (const std::string& name :
         std::vector<std::string>{"", "a", "chat/42", "ümlaut ☃ \"quoted\" \\ back"}) {
      auto verified = verify_signed_stream_name(sign_stream_name(name, kKey, digest), kKey, digest);
      ASSERT_TRUE(verified) << name;
      EXPECT_EQ(*verified, name);
    }
  }
}

TEST(VerifySignedStreamName, RefusesATamperedSignature) {
  std::string tampered = kSigned;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(verify_signed_stream_name(tampered, kKey, Digest::sha256).error(),
            SignedStreamError::bad_signature);
  // Hex is compared byte for byte, as Rails does: an upper-case digest is not the digest.
  std::string upper = kSigned;
  for (std::size_t i = upper.find("--") + 2; i < upper.size(); ++i) {
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
  }
  EXPECT_EQ(verify_signed_stream_name(upper, kKey, Digest::sha256).error(),
            SignedStreamError::bad_signature);
}

TEST(VerifySignedStreamName, RefusesATamperedPayload) {
  // "chat/2024" under the signature of "chat/2023".
  std::string tampered = encode_base64("\"chat/2024\"") + kSigned.substr(kSigned.find("--"));
  EXPECT_EQ(verify_signed_stream_name(tampered, kKey, Digest::sha256).error(),
            SignedStreamError::bad_signature);
}

TEST(VerifySignedStreamName, RefusesAWrongKeyOrDigestOrNoKey) {
  EXPECT_EQ(verify_signed_stream_name(kSigned, "s3Krit2", Digest::sha256).error(),
            SignedStreamError::bad_signature);
  // A SHA1 digest is 40 hex characters: the 64 here do not even have the shape.
  EXPECT_EQ(verify_signed_stream_name(kSigned, kKey, Digest::sha1).error(),
            SignedStreamError::malformed);
  EXPECT_EQ(
      verify_signed_stream_name(sign_stream_name("x", kKey, Digest::sha1), kKey, Digest::sha256)
          .error(),
      SignedStreamError::malformed);
  EXPECT_EQ(verify_signed_stream_name(kSigned, "", Digest::sha256).error(),
            SignedStreamError::no_key);
}

TEST(VerifySignedStreamName, RefusesTruncatedAndShapelessInput) {
  for (const std::string& bad :
       {""s, "--"s, kSigned.substr(0, kSigned.size() - 1), kSigned.substr(1) + "0",
        kSigned.substr(kSigned.find("--")), kSigned.substr(0, kSigned.find("--")), kSigned + "--",
        kSigned + "-", "x"s + kSigned.substr(kSigned.find("--") + 1)}) {
    auto result = verify_signed_stream_name(bad, kKey, Digest::sha256);
    EXPECT_FALSE(result) << bad;
  }
  EXPECT_EQ(
      verify_signed_stream_name(kSigned.substr(kSigned.find("--")), kKey, Digest::sha256).error(),
      SignedStreamError::malformed);
  std::string non_ascii = "\xC3\xA9" + kSigned;
  EXPECT_EQ(verify_signed_stream_name(non_ascii, kKey, Digest::sha256).error(),
            SignedStreamError::malformed);
}

TEST(VerifySignedStreamName, SplitsAtTheDigestCountedFromTheEnd) {
  // A URL-safe payload may itself contain "--": the digest is the last 64 characters, so the
  // name still verifies (Rails 7.1+; a split on the first "--" would lose it).
  const std::string name = "\xef\xbe\xbe";  // U+FFBE: its JSON is "Iu--viI" in URL-safe Base64
  std::string encoded = encode_base64url("\"" + name + "\"");
  ASSERT_EQ(encoded, "Iu--viI");
  EXPECT_EQ(verify_signed_stream_name(sign_payload(encoded), kKey, Digest::sha256).value(), name);
}

TEST(VerifySignedStreamName, AcceptsUrlSafeAndUnpaddedPayloads) {
  // Rails 7.1 `url_safe: true` and anycable-rb's urlsafe_encode64 both sign such payloads.
  const std::string name = ">>>>?";  // standard Base64 of its JSON has "/" and "+"
  const std::string json = "\">>>>?\"";
  ASSERT_NE(encode_base64(json).find_first_of("+/"), std::string::npos);
  EXPECT_EQ(
      verify_signed_stream_name(sign_payload(encode_base64url(json)), kKey, Digest::sha256).value(),
      name);
  EXPECT_EQ(
      verify_signed_stream_name(sign_payload(encode_base64(json)), kKey, Digest::sha256).value(),
      name);
}

TEST(VerifySignedStreamName, RefusesCorrectlySignedBadBase64) {
  EXPECT_EQ(
      verify_signed_stream_name(sign_payload("ImNoYXQvMjAyMyI=\n"), kKey, Digest::sha256).error(),
      SignedStreamError::bad_base64);
  EXPECT_EQ(verify_signed_stream_name(sign_payload("ImN*"), kKey, Digest::sha256).error(),
            SignedStreamError::bad_base64);
  EXPECT_EQ(verify_signed_stream_name(sign_payload("QR=="), kKey, Digest::sha256).error(),
            SignedStreamError::bad_base64);
}

TEST(VerifySignedStreamName, RefusesCorrectlySignedJsonThatIsNotAString) {
  for (const std::string& json :
       std::vector<std::string>{"42", "null", "true", "[\"room\"]", "{\"_rails\":{}}"}) {
    EXPECT_EQ(
        verify_signed_stream_name(sign_payload(encode_base64(json)), kKey, Digest::sha256).error(),
        SignedStreamError::not_a_string)
        << json;
  }
  for (const std::string& json :
       std::vector<std::string>{"room", "\"room", "\"room\" x", "\"\xff\""}) {
    EXPECT_EQ(
        verify_signed_stream_name(sign_payload(encode_base64(json)), kKey, Digest::sha256).error(),
        SignedStreamError::bad_json)
        << json;
  }
}

TEST(VerifySignedStreamName, RefusesHugeInputBeforeHashing) {
  std::string huge(kMaxSignedStreamNameBytes + 1, 'A');
  EXPECT_EQ(verify_signed_stream_name(huge, kKey, Digest::sha256).error(),
            SignedStreamError::too_large);
  // Just under the bound, correctly signed, still verifies.
  std::string long_name(kMaxSignedStreamNameBytes / 2, 'n');
  EXPECT_EQ(verify_signed_stream_name(sign_stream_name(long_name, kKey, Digest::sha256), kKey,
                                      Digest::sha256)
                .value(),
            long_name);
}

TEST(SignedStreamError, HasReadableMessages) {
  boost::system::error_code ec = SignedStreamError::bad_signature;
  EXPECT_EQ(ec.category().name(), std::string("signed_stream"));
  EXPECT_NE(ec.message().find("signature"), std::string::npos);
}

}  // namespace
}  // namespace cablecast::auth
