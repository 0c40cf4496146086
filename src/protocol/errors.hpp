#pragma once
// Why a client frame or identifier could not be turned into a command. Each value maps to one
// clear log line; none of them closes the connection (Action Cable never does for bad commands).
#include <boost/system/error_code.hpp>

namespace cablecast::protocol {

enum class Error {
  malformed_json = 1,     // the frame is not JSON
  not_an_object,          // JSON, but not an object
  missing_command,        // no "command" key, or not a string
  unknown_command,        // "command" is none of Action Cable's nor AnyCable's
  missing_identifier,     // no "identifier" key, or not a string, or empty
  missing_data,           // "message" without "data"
  data_not_string,        // "data" present but not a string (Rails: TypeError)
  identifier_not_json,    // identifier string is not JSON
  identifier_not_object,  // identifier JSON is not an object
  missing_channel,        // identifier has no "channel" string
  data_not_json,          // data string is not JSON
  data_not_object,        // data JSON is not an object
  too_deep,               // nesting deeper than the decoder allows (JSON bomb)
  // AnyCable's extension commands:
  missing_history,   // "history" command without a "history" object
  bad_history,       // "history" is not {since, streams: {name: {epoch, offset}}}, or asks nothing
  missing_presence,  // "join" command without a "presence" object
  bad_presence,      // "presence" is not {id: string or number, info: any JSON}
  over_limit,        // more streams, or a longer id, name, epoch or info than the server accepts
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace cablecast::protocol

template <>
struct boost::system::is_error_code_enum<cablecast::protocol::Error> : std::true_type {};
