#include "app/secret_mask.hpp"

#include <gtest/gtest.h>

namespace cablecast::app {
namespace {

TEST(MaskedSecret, ShowsWhetherASecretIsSetButNeverItsValueOrLength) {
  EXPECT_EQ(masked_secret("s3cr3t-value"), "****");
  EXPECT_EQ(masked_secret("x"), "****");
  EXPECT_EQ(masked_secret(""), "");
}

TEST(MaskPasswords, HidesThePasswordOfAUrlsUserInfo) {
  EXPECT_EQ(mask_passwords("redis://:hunter2@redis.internal:6379/0"),
            "redis://:****@redis.internal:6379/0");
  EXPECT_EQ(mask_passwords("postgres://app:p%40ss@db/app"), "postgres://app:****@db/app");
  EXPECT_EQ(mask_passwords("rediss://user:a:b@c@host"), "rediss://user:****@host");
}

TEST(MaskPasswords, KeepsUrlsWithoutAPassword) {
  EXPECT_EQ(mask_passwords("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
  EXPECT_EQ(mask_passwords("postgres://app@db:5432/app"), "postgres://app@db:5432/app");
  EXPECT_EQ(mask_passwords("http://rails:3000/_anycable?x=a@b"),
            "http://rails:3000/_anycable?x=a@b");
}

TEST(MaskPasswords, HidesLibpqPasswordKeywordsQuotedOrNot) {
  EXPECT_EQ(mask_passwords("host=db password=hunter2 dbname=app"),
            "host=db password=**** dbname=app");
  EXPECT_EQ(mask_passwords("host=db password = 'two words\\' x' user=a"),
            "host=db password = **** user=a");
  EXPECT_EQ(mask_passwords("postgres://db/app?sslmode=require&password=hunter2&x=1"),
            "postgres://db/app?sslmode=require&password=****&x=1");
}

TEST(MaskPasswords, LeavesOtherWordsEndingInPasswordAlone) {
  EXPECT_EQ(mask_passwords("host=db mypassword=x"), "host=db mypassword=x");
  EXPECT_EQ(mask_passwords("cookie"), "cookie");
}

}  // namespace
}  // namespace cablecast::app
