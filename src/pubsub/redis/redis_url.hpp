#pragma once
// Where a Redis server is and how to log in, parsed from the URL Rails' cable.yml uses:
//   redis://[[user]:password@]host[:port][/db]     (host may be [IPv6]; db also as ?db=N)
//   unix:///path/to/redis.sock[?db=N]
// rediss:// (TLS) is refused with a clear message: hiredis is built here without TLS.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cablecast::pubsub::redis {

struct RedisEndpoint {
  std::string host;  // empty for a unix socket
  std::uint16_t port = 6379;
  std::string unix_path;  // non-empty for unix:// URLs
  std::string user;       // Redis 6 ACL user; AUTH <user> <password> when both are set
  std::string password;   // AUTH only when non-empty (as redis-rb)
  unsigned db = 0;        // SELECT only when non-zero

  // For logs: never contains the password.
  std::string describe() const;
};

struct UrlOrError {
  std::optional<RedisEndpoint> endpoint;  // empty on error
  std::string error;                      // why the URL was refused
};

UrlOrError parse_redis_url(std::string_view url);

}  // namespace cablecast::pubsub::redis
