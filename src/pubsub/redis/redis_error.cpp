#include "pubsub/redis/redis_error.hpp"

#include <string>

namespace cablecast::pubsub::redis {
namespace {

// Boost's error_category has a protected non-virtual destructor by design (categories are never
// deleted through a base pointer); g++'s -Wnon-virtual-dtor does not know that.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class RedisCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }
  std::string message(int value) const override {
    switch (static_cast<RedisError>(value)) {
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
    return "unknown Redis adapter error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& redis_category() {
  static const RedisCategory category;
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
