#pragma once
// Typed errors of the PostgreSQL adapter. Their messages are what `cablecast broadcast` and a
// failed start-up print, so each one says what happened and what to do; details that only libpq
// knows (the server's own message) go to the log next to it.
#include <boost/system/error_code.hpp>
#include <string_view>
#include <type_traits>

namespace cablecast::pubsub::postgres {

enum class PostgresError {
  payload_too_large = 1,  // >= 8000 bytes: PostgreSQL would reject the NOTIFY
  nul_byte,               // PostgreSQL text cannot hold a NUL byte
  empty_channel,          // no prefix and an empty broadcasting name
  not_connected,          // the publishing connection is reconnecting
  queue_full,             // too many broadcasts waiting for PostgreSQL
  stopped,                // stop() ran
  connect_failed,         // start-up: refused, unreachable, bad credentials...
  timed_out,              // start-up: no answer within the connect timeout
  listen_failed,          // PostgreSQL refused LISTEN for a stream
};

const boost::system::error_category& postgres_category();

// Whether libpq's text for a failed connection attempt says PostgreSQL refused this client
// (password, role, database, pg_hba.conf): a configuration error, reported at once at start-up.
// Anything else (refused, unreachable, timeout, starting up) gets better by waiting.
bool is_configuration_error(std::string_view libpq_message);

inline boost::system::error_code make_error_code(PostgresError e) {
  return {static_cast<int>(e), postgres_category()};
}

// Largest payload NOTIFY accepts is 7999 bytes (PostgreSQL: "must be shorter than 8000 bytes",
// NOTIFY_PAYLOAD_MAX_LENGTH in the default build).
inline constexpr std::size_t kMaxPayloadBytes = 7999;

}  // namespace cablecast::pubsub::postgres

template <>
struct boost::system::is_error_code_enum<cablecast::pubsub::postgres::PostgresError>
    : std::true_type {};
