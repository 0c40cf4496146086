#pragma once
// Why the Redis adapter refused or failed, as error codes: start() and publish() return them,
// so `cablecast serve` and the C++ API report a reason a person can act on. The broker's own
// text (e.g. "WRONGPASS invalid username-password pair") goes to the log next to it.
#include <boost/system/error_code.hpp>
#include <type_traits>

namespace cablecast::pubsub::redis {

enum class RedisError {
  connect_failed = 1,  // TCP/unix connect refused or unreachable
  auth_failed,         // NOAUTH / WRONGPASS / AUTH refused
  select_failed,       // SELECT <db> refused (e.g. out of range)
  timed_out,           // no connection or handshake answer within the connect timeout
  connection_lost,     // the broker went away (also: the reply never came)
  not_connected,       // publish while the publisher connection is down (reconnecting)
  queue_full,          // too many bytes of broadcasts waiting for Redis
  stopped,             // the adapter was stopped
  server_error,        // Redis answered a command with an error
};

const boost::system::error_category& redis_category();

// Whether `code` says Redis could not be reached (refused, unreachable, no answer in time, lost)
// rather than that it refused us (credentials, database): the first gets better by waiting,
// the second is a configuration error that start-up reports at once.
bool is_unreachable(boost::system::error_code code);

inline boost::system::error_code make_error_code(RedisError e) {
  return {static_cast<int>(e), redis_category()};
}

}  // namespace cablecast::pubsub::redis

template <>
struct boost::system::is_error_code_enum<cablecast::pubsub::redis::RedisError> : std::true_type {};
