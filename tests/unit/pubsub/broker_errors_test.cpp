// Which start-up failures wait for the broker (it is not up yet) and which are configuration
// errors reported at once.
#include <gtest/gtest.h>

#include "pubsub/postgres/postgres_error.hpp"
#include "pubsub/redis/redis_error.hpp"

namespace cablecast::pubsub {
namespace {

TEST(RedisStartFailures, UnreachableWaitsAndRefusalsDoNot) {
  using redis::RedisError;
  EXPECT_TRUE(redis::is_unreachable(RedisError::connect_failed));
  EXPECT_TRUE(redis::is_unreachable(RedisError::timed_out));
  EXPECT_TRUE(redis::is_unreachable(RedisError::connection_lost));
  EXPECT_FALSE(redis::is_unreachable(RedisError::auth_failed));
  EXPECT_FALSE(redis::is_unreachable(RedisError::select_failed));
  EXPECT_FALSE(redis::is_unreachable(RedisError::server_error));
  EXPECT_FALSE(redis::is_unreachable(make_error_code(boost::system::errc::connection_refused)));
}

TEST(PostgresStartFailures, ARefusedClientIsAConfigurationError) {
  using postgres::is_configuration_error;
  EXPECT_TRUE(is_configuration_error(
      "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication "
      "failed for user \"app\""));
  EXPECT_TRUE(is_configuration_error("FATAL:  role \"no_such_role\" does not exist"));
  EXPECT_TRUE(is_configuration_error("FATAL:  database \"nope\" does not exist"));
  EXPECT_TRUE(is_configuration_error("FATAL:  no pg_hba.conf entry for host \"10.0.0.2\""));
  EXPECT_TRUE(is_configuration_error("fe_sendauth: no password supplied"));
}

TEST(PostgresStartFailures, AnUnreachableServerIsNot) {
  using postgres::is_configuration_error;
  EXPECT_FALSE(is_configuration_error(
      "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the server "
      "running on that host and accepting TCP/IP connections?"));
  EXPECT_FALSE(is_configuration_error("could not translate host name \"db\" to address"));
  EXPECT_FALSE(is_configuration_error("timeout expired"));
  EXPECT_FALSE(is_configuration_error("FATAL:  the database system is starting up"));
}

}  // namespace
}  // namespace cablecast::pubsub
