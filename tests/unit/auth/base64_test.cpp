#include "auth/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cablecast::auth {
namespace {

using namespace std::string_literals;

TEST(Base64, EncodesWithPaddingAndUrlSafeWithout) {
  EXPECT_EQ(encode_base64(""), "");
  EXPECT_EQ(encode_base64("A"), "QQ==");
  EXPECT_EQ(encode_base64("\"chat/2023\""), "ImNoYXQvMjAyMyI=");
  EXPECT_EQ(encode_base64("\xfb\xff"s), "+/8=");
  EXPECT_EQ(encode_base64url("\xfb\xff"s), "-_8");
  EXPECT_EQ(encode_base64url("ABC"), "QUJD");
}

TEST(DecodeBase64LikeRails, AcceptsStrictStandardBase64) {
  EXPECT_EQ(decode_base64_like_rails("ImNoYXQvMjAyMyI="), "\"chat/2023\"");
  EXPECT_EQ(decode_base64_like_rails("QUJD"), "ABC");
  EXPECT_EQ(decode_base64_like_rails("+/8="), "\xfb\xff"s);
}

TEST(DecodeBase64LikeRails, AcceptsUrlSafeWithOrWithoutPadding) {
  EXPECT_EQ(decode_base64_like_rails("-_8="), "\xfb\xff"s);
  EXPECT_EQ(decode_base64_like_rails("-_8"), "\xfb\xff"s);
  EXPECT_EQ(decode_base64_like_rails("QQ"), "A");
  // urlsafe_decode64 leaves "+" and "/" alone, so a mix decodes too.
  EXPECT_EQ(decode_base64_like_rails("+_8"), "\xfb\xff"s);
}

TEST(DecodeBase64LikeRails, RefusesWhatRubyRefuses) {
  EXPECT_FALSE(decode_base64_like_rails("QQ="));     // padded, but not to a multiple of 4
  EXPECT_FALSE(decode_base64_like_rails("QR=="));    // unused bits set
  EXPECT_FALSE(decode_base64_like_rails("QR"));      // the same, unpadded
  EXPECT_FALSE(decode_base64_like_rails("Q"));       // one character cannot hold a byte
  EXPECT_FALSE(decode_base64_like_rails("QUJD\n"));  // no whitespace anywhere
  EXPECT_FALSE(decode_base64_like_rails(" QUJD"));
  EXPECT_FALSE(decode_base64_like_rails("QU=D"));  // "=" only at the end
  EXPECT_FALSE(decode_base64_like_rails("Q==="));
  EXPECT_FALSE(decode_base64_like_rails("===="));
  EXPECT_FALSE(decode_base64_like_rails("QUJD*A=="));
  EXPECT_FALSE(decode_base64_like_rails("QU\0D"s));
}

TEST(DecodeBase64Url, AcceptsOnlyUnpaddedUrlSafe) {
  EXPECT_EQ(decode_base64url("-_8"), "\xfb\xff"s);
  EXPECT_EQ(decode_base64url(""), "");
  EXPECT_FALSE(decode_base64url("-_8="));
  EXPECT_FALSE(decode_base64url("+/8"));
  EXPECT_FALSE(decode_base64url("-_9"));  // unused bits set
  EXPECT_FALSE(decode_base64url("QUJDQ"));
}

}  // namespace
}  // namespace cablecast::auth
