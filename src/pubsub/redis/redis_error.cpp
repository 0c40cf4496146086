#include "pubsub/redis/redis_error.hpp"

#include "core/error_category.hpp"

namespace cablecast::pubsub::redis {
namespace {

const char* describe(RedisError e) {
  switch (e) {
    case RedisError::connect_failed:
      return "cannot connect to Redis";
    case RedisError::auth_failed:
      return "Redis refused the credentials (check the user and password in the URL)";
    case RedisError::select_failed:
      return "Redis refused to select the database in the URL";
    case RedisError::timed_out:
      return "Redis did not answer within the connect timeout";
    case RedisError::connection_lost:
      return "the connection to Redis was lost";
    case RedisError::not_connected:
      return "not connected to Redis (reconnecting)";
    case RedisError::queue_full:
      return "too many broadcasts are waiting for Redis";
    case RedisError::stopped:
      return "the Redis adapter is stopped";
    case RedisError::server_error:
      return "Redis answered with an error";
  }
  return nullptr;
}

}  // namespace

const boost::system::error_category& redis_category() {
  static const core::ErrorCategory<RedisError, describe> category("redis", "Redis adapter error");
  return category;
}

bool is_unreachable(boost::system::error_code code) {
  if (code.category() != redis_category()) return false;
  switch (static_cast<RedisError>(code.value())) {
    case RedisError::connect_failed:
    case RedisError::timed_out:
    case RedisError::connection_lost:
      return true;
    default:
      return false;
  }
}

}  // namespace cablecast::pubsub::redis
