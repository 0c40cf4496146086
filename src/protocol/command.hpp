#pragma once
// Client -> server commands (Action Cable protocol v1, JSON, and AnyCable's extensions of it:
// history, presence, whisper, pong, ping). Pure: no I/O, fuzzed.
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/errors.hpp"

namespace cablecast::protocol {

enum class CommandType {
  subscribe,
  unsubscribe,
  message,
  // AnyCable's extensions (protocol.md 7.1-7.6), accepted whatever sub-protocol was negotiated,
  // as AnyCable does; what the server makes of them is the session's business.
  history,
  join,
  leave,
  presence,
  whisper,
  pong,
  ping,
};

// A place in one stream's history: the generation of its numbering and the last offset seen.
struct StreamPosition {
  std::string epoch;
  std::uint64_t offset = 0;
};

// What a client missed: per stream, everything after a position it saw; for the other streams
// of the subscription, everything stored at or after `since` (UNIX seconds; 0 = not asked).
// Never empty: since > 0 or at least one stream.
struct HistoryRequest {
  std::int64_t since = 0;
  std::vector<std::pair<std::string, StreamPosition>> streams;  // in the client's order
};

// Who joins (or leaves) a presence set. Numbers sent as `id` become their decimal text, so 42
// and "42" are the same member, as @anycable/core's String(id) makes them.
struct PresenceRequest {
  std::string id;
  std::string info = "null";  // JSON text, inserted as is into presence events
};

struct Command {
  CommandType type;
  // The identifier exactly as the client sent it (after JSON-string unescaping): it is the
  // subscription key and is echoed back byte for byte, never regenerated. Empty only for pong
  // and ping, which need none.
  std::string identifier;
  // message: the `data` string (itself JSON text, decoded later by parse_action_data).
  // whisper: the `data` value as JSON text (an object, a string literal, any JSON value).
  // presence: the `data` object as JSON text, or empty when the client sent none.
  std::string data;
  // history: always set. subscribe: set when the client asked for history while subscribing.
  std::optional<HistoryRequest> history;
  // join: always set. subscribe: set when the client joins while subscribing. leave: set when
  // the client named the member (@anycable/core never does: the session knows who joined).
  std::optional<PresenceRequest> presence;
};

// Decodes one text frame. Extra top-level keys are ignored, as in Rails.
// Errors: malformed_json, not_an_object, missing_command, unknown_command, missing_identifier,
// missing_data, data_not_string, data_not_object, missing_history, bad_history,
// missing_presence, bad_presence, over_limit, too_deep.
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

// Bounds on what one extension command may ask for (over_limit beyond them): the work and memory
// a history request or a presence record costs must not grow with whatever frame size the
// server allows.
inline constexpr std::size_t max_history_streams = 1024;
inline constexpr std::size_t max_stream_name_bytes = 4096;
inline constexpr std::size_t max_epoch_bytes = 256;
inline constexpr std::size_t max_presence_id_bytes = 1024;
// Presence info is kept per member and sent to every subscriber in each info reply.
inline constexpr std::size_t max_presence_info_bytes = 8 * 1024;

}  // namespace cablecast::protocol
