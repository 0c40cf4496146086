#include "pubsub/postgres/postgres_error.hpp"

#include "core/error_category.hpp"

namespace cablecast::pubsub::postgres {
namespace {

const char* describe(PostgresError e) {
  switch (e) {
    case PostgresError::payload_too_large:
      return "broadcast payload too large: PostgreSQL NOTIFY payloads must be shorter than "
             "8000 bytes";
    case PostgresError::nul_byte:
      return "broadcasting name or payload contains a NUL byte, which PostgreSQL text cannot "
             "hold";
    case PostgresError::empty_channel:
      return "empty broadcasting name: PostgreSQL has no empty channel";
    case PostgresError::not_connected:
      return "the PostgreSQL connection is down (reconnecting); the broadcast was not sent";
    case PostgresError::queue_full:
      return "too many broadcasts are waiting for PostgreSQL; the broadcast was not sent";
    case PostgresError::stopped:
      return "the PostgreSQL pub/sub adapter is stopped";
    case PostgresError::connect_failed:
      return "could not connect to PostgreSQL (libpq's reason is in the log)";
    case PostgresError::timed_out:
      return "PostgreSQL did not answer within the connect timeout";
    case PostgresError::listen_failed:
      return "PostgreSQL refused LISTEN (the server's reason is in the log)";
  }
  return nullptr;
}

}  // namespace

const boost::system::error_category& postgres_category() {
  static const core::ErrorCategory<PostgresError, describe> category("cablecast.postgres",
                                                                     "PostgreSQL adapter error");
  return category;
}

bool is_configuration_error(std::string_view libpq_message) {
  // libpq gives text only; these are the server's FATAL messages for a refused client
  // (SQLSTATE 28P01, 28000, 3D000) and libpq's own for a missing password.
  for (std::string_view refused :
       {"authentication failed", "does not exist", "no pg_hba.conf entry", "password",
        "permission denied", "invalid connection option"}) {
    if (libpq_message.find(refused) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace cablecast::pubsub::postgres
