#pragma once
// Why a broadcast body (HTTP POST or Redis "__anycable__") is not a publication. Each value is one
// clear reason, for the 422 answer's log line; AnyCable itself logs such bodies and answers 201,
// we refuse them (docs/broadcasting.md).
#include <boost/system/error_code.hpp>

namespace cablecast::broadcast {

enum class Error {
  not_json = 1,         // the body is not JSON (or nests deeper than the parser allows)
  not_object_or_array,  // JSON, but neither an object nor an array
  item_not_object,      // an array item is not an object
  empty_array,          // [] publishes nothing: surely a mistake
  too_many_items,       // more publications in one array than the limit
  missing_stream,       // no "stream" (and no "command"), or "stream" is empty
  stream_not_string,    // "stream" is not a string
  missing_data,         // a publication without "data"
  data_not_string,      // "data" is not a string (it is JSON *text*, as AnyCable takes it)
  meta_not_object,      // "meta" is not an object
  exclude_socket_not_string,
  broadcast_type_not_string,
  transient_not_boolean,
  unknown_command,        // "command" other than "disconnect"
  command_not_string,     // "command" is not a string
  payload_not_object,     // the disconnect command's "payload" is missing or not an object
  identifier_not_string,  // payload "identifier" is missing or not a string
  identifier_not_object,  // payload "identifier" is not the JSON text of an object
  identifier_empty,       // {} names no connection (anonymous ones cannot be told apart)
  reconnect_not_boolean,  // payload "reconnect" is not true or false
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace cablecast::broadcast

template <>
struct boost::system::is_error_code_enum<cablecast::broadcast::Error> : std::true_type {};
