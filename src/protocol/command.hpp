#pragma once
// Client -> server commands (Action Cable protocol v1, JSON). Pure: no I/O, fuzzed.
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <string>
#include <string_view>

#include "protocol/errors.hpp"

namespace cablecast::protocol {

enum class CommandType { subscribe, unsubscribe, message };

struct Command {
  CommandType type;
  // The identifier exactly as the client sent it (after JSON-string unescaping): it is the
  // subscription key and is echoed back byte for byte, never regenerated.
  std::string identifier;
  // "message" only: the `data` string (itself JSON text, decoded later by parse_action_data).
  std::string data;
};

// Decodes one text frame. Extra top-level keys are ignored, as in Rails.
// Errors: malformed_json, not_an_object, missing_command, unknown_command, missing_identifier,
// missing_data, data_not_string, too_deep.
boost::system::result<Command> decode_command(std::string_view frame);

// The "command" value of a frame for log lines about unknown commands ("" if none).
std::string command_name(std::string_view frame);

// An identifier decoded for routing: the channel class name and every key as params
// (params include "channel", as Rails' params do).
struct ChannelIdentifier {
  std::string channel;
  boost::json::object params;
};

// Errors: identifier_not_json, identifier_not_object, missing_channel, too_deep.
boost::system::result<ChannelIdentifier> parse_identifier(std::string_view identifier);

// Decodes a "message" command's data string into an object (it still contains "action").
// Errors: data_not_json, data_not_object, too_deep.
boost::system::result<boost::json::object> parse_action_data(std::string_view data);

// Deepest JSON nesting accepted anywhere in a client frame (a JSON bomb beyond it is refused).
inline constexpr std::size_t max_json_depth = 64;

}  // namespace cablecast::protocol
