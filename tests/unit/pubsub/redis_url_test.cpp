// parse_redis_url: the URL forms Rails' cable.yml and redis-rb accept, and clear refusals.
#include "pubsub/redis/redis_url.hpp"

#include <gtest/gtest.h>

namespace cablecast::pubsub::redis {
namespace {

RedisEndpoint parse_ok(std::string_view url) {
  auto parsed = parse_redis_url(url);
  EXPECT_TRUE(parsed.endpoint) << url << ": " << parsed.error;
  return parsed.endpoint.value_or(RedisEndpoint{});
}

std::string parse_error(std::string_view url) {
  auto parsed = parse_redis_url(url);
  EXPECT_FALSE(parsed.endpoint) << url << " was accepted";
  EXPECT_FALSE(parsed.error.empty());
  return parsed.error;
}

TEST(RedisUrl, HostPortAndDatabase) {
  auto e = parse_ok("redis://10.1.2.3:6380/5");
  EXPECT_EQ(e.host, "10.1.2.3");
  EXPECT_EQ(e.port, 6380);
  EXPECT_EQ(e.db, 5u);
  EXPECT_TRUE(e.password.empty());
  EXPECT_TRUE(e.user.empty());
  EXPECT_TRUE(e.unix_path.empty());
}

TEST(RedisUrl, DefaultsArePort6379AndDatabase0) {
  for (auto url : {"redis://localhost", "redis://localhost/", "redis://localhost/0"}) {
    auto e = parse_ok(url);
    EXPECT_EQ(e.host, "localhost") << url;
    EXPECT_EQ(e.port, 6379) << url;
    EXPECT_EQ(e.db, 0u) << url;
  }
}

TEST(RedisUrl, PasswordOnlyAsRailsWritesIt) {
  auto e = parse_ok("redis://:s3cret@cache:6379/1");
  EXPECT_EQ(e.user, "");
  EXPECT_EQ(e.password, "s3cret");
  EXPECT_EQ(e.host, "cache");
  EXPECT_EQ(e.db, 1u);
}

TEST(RedisUrl, AclUserAndPercentEncodedPassword) {
  auto e = parse_ok("redis://cable:p%40ss%3Aw0rd@127.0.0.1:7000/2");
  EXPECT_EQ(e.user, "cable");
  EXPECT_EQ(e.password, "p@ss:w0rd");
  EXPECT_EQ(e.port, 7000);
}

TEST(RedisUrl, UserWithoutPasswordSendsNoAuth) {
  auto e = parse_ok("redis://someone@127.0.0.1");
  EXPECT_EQ(e.user, "someone");
  EXPECT_TRUE(e.password.empty());
}

TEST(RedisUrl, Ipv6HostInBrackets) {
  auto e = parse_ok("redis://[::1]:6390/3");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 6390);
  EXPECT_EQ(e.db, 3u);
  EXPECT_EQ(parse_ok("redis://[::1]").port, 6379);
}

TEST(RedisUrl, DatabaseAsQueryParameter) { EXPECT_EQ(parse_ok("redis://h:1/?db=4").db, 4u); }

TEST(RedisUrl, UnixSocket) {
  auto e = parse_ok("unix:///run/redis/redis.sock?db=2");
  EXPECT_EQ(e.unix_path, "/run/redis/redis.sock");
  EXPECT_TRUE(e.host.empty());
  EXPECT_EQ(e.db, 2u);
}

TEST(RedisUrl, TlsIsRefusedClearly) {
  EXPECT_NE(parse_error("rediss://:pw@host:6380/0").find("TLS"), std::string::npos);
}

TEST(RedisUrl, RefusesMalformedUrls) {
  EXPECT_NE(parse_error("localhost:6379").find("scheme"), std::string::npos);
  EXPECT_NE(parse_error("http://localhost:6379").find("scheme"), std::string::npos);
  EXPECT_NE(parse_error("redis://").find("host"), std::string::npos);
  EXPECT_NE(parse_error("redis://:pw@/0").find("host"), std::string::npos);
  EXPECT_NE(parse_error("redis://h:0").find("port"), std::string::npos);
  EXPECT_NE(parse_error("redis://h:65536").find("port"), std::string::npos);
  EXPECT_NE(parse_error("redis://h:http").find("port"), std::string::npos);
  EXPECT_NE(parse_error("redis://h:").find("port"), std::string::npos);
  EXPECT_NE(parse_error("redis://h/zero").find("database"), std::string::npos);
  EXPECT_NE(parse_error("redis://h/1/2").find("database"), std::string::npos);
  EXPECT_NE(parse_error("redis://h/?timeout=5").find("timeout"), std::string::npos);
  EXPECT_NE(parse_error("redis://h/?db=x").find("db"), std::string::npos);
  EXPECT_NE(parse_error("redis://[::1/0").find("IPv6"), std::string::npos);
  EXPECT_NE(parse_error("redis://u:%zz@h").find("percent"), std::string::npos);
  EXPECT_NE(parse_error("redis://h/0#frag").find("fragment"), std::string::npos);
  EXPECT_NE(parse_error("unix://relative.sock").find("absolute"), std::string::npos);
}

TEST(RedisUrl, DescriptionNeverContainsThePassword) {
  auto e = parse_ok("redis://cable:topsecret@127.0.0.1:6379/2");
  std::string text = e.describe();
  EXPECT_EQ(text.find("topsecret"), std::string::npos);
  EXPECT_NE(text.find("127.0.0.1:6379"), std::string::npos);
  EXPECT_NE(text.find("db 2"), std::string::npos);
  EXPECT_EQ(parse_ok("redis://[::1]:6379").describe(), "[::1]:6379 db 0");
  EXPECT_EQ(parse_ok("unix:///tmp/r.sock").describe(), "unix:/tmp/r.sock db 0");
}

}  // namespace
}  // namespace cablecast::pubsub::redis
