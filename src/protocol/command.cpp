// Client frame decoding. The frame itself is parsed with simdjson's DOM parser (one per client
// message, so it is the hot path); identifiers and action data become boost::json objects because
// channel code keeps them as params.
#include "protocol/command.hpp"

#include <simdjson.h>

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <new>
#include <optional>

#include "core/assert.hpp"
#include "protocol/encode.hpp"
#include "protocol/extension_fields.hpp"

namespace cablecast::protocol {
namespace {

// Frames up to this size go through a per-thread parser that keeps its buffers between calls.
// A bigger frame gets a parser of its own, so one huge frame does not pin megabytes to a thread.
constexpr std::size_t retained_parser_capacity = 64 * 1024;

// One top-level member of interest, as the last occurrence of its key left it (Ruby's JSON.parse
// keeps the last duplicate, and Rails only ever sees that one).
struct Field {
  enum class Kind { absent, null, string, other };
  Kind kind = Kind::absent;
  std::string_view text;  // the unescaped value when kind == string
  // The value as JSON text when kind == other and the key's value matters whole (data, history,
  // presence). Frames on the hot path carry strings there, so it costs them nothing.
  std::string json;
};

struct FrameFields {
  Field command;
  Field identifier;
  Field data;
  Field history;
  Field presence;
};

// Whether a key's whole value is kept as JSON text (see Field::json).
enum class Keep { kind_only, json };

Field field_of(simdjson::dom::element value, Keep keep = Keep::kind_only) {
  std::string_view text;
  if (value.get(text) == simdjson::SUCCESS) return {Field::Kind::string, text, {}};
  if (value.is_null()) return {Field::Kind::null, {}, {}};
  return {Field::Kind::other, {}, keep == Keep::json ? simdjson::to_string(value) : std::string()};
}

Field field_of(const boost::json::value& value, Keep keep = Keep::kind_only) {
  if (const auto* text = value.if_string()) return {Field::Kind::string, *text, {}};
  if (value.is_null()) return {Field::Kind::null, {}, {}};
  return {
      Field::Kind::other, {}, keep == Keep::json ? boost::json::serialize(value) : std::string()};
}

simdjson::dom::parser make_frame_parser(std::size_t capacity) {
  simdjson::dom::parser parser;
  // simdjson allocates with nothrow; report exhaustion the way every other allocation does.
  if (parser.allocate(capacity, max_json_depth) != simdjson::SUCCESS) throw std::bad_alloc();
  return parser;
}

// The parser for a frame of `size` bytes: this thread's retained one, or a new one owned by
// `own_parser` for a frame too big to keep buffers for.
simdjson::dom::parser& frame_parser(std::size_t size,
                                    std::unique_ptr<simdjson::dom::parser>& own_parser) {
  if (size <= retained_parser_capacity) {
    thread_local simdjson::dom::parser retained = make_frame_parser(4096);
    return retained;
  }
  own_parser = std::make_unique<simdjson::dom::parser>(make_frame_parser(size));
  return *own_parser;
}

// Parses `frame` and hands its interesting fields (or why there are none) to `use`, while the
// storage the string views point into is still alive.
template <class Use>
auto with_frame_fields(std::string_view frame, Use&& use) {
  std::unique_ptr<simdjson::dom::parser> own_parser;
  simdjson::dom::parser& parser = frame_parser(frame.size(), own_parser);

  simdjson::dom::element root;
  const auto error = parser.parse(frame.data(), frame.size()).get(root);
  if (error == simdjson::SUCCESS) {
    simdjson::dom::object object;
    if (root.get(object) != simdjson::SUCCESS) {
      return use(boost::system::result<FrameFields>(Error::not_an_object));
    }
    FrameFields fields;
    for (const auto member : object) {
      if (member.key == "command") {
        fields.command = field_of(member.value);
      } else if (member.key == "identifier") {
        fields.identifier = field_of(member.value);
      } else if (member.key == "data") {
        fields.data = field_of(member.value, Keep::json);
      } else if (member.key == "history") {
        fields.history = field_of(member.value, Keep::json);
      } else if (member.key == "presence") {
        fields.presence = field_of(member.value, Keep::json);
      }
    }
    return use(boost::system::result<FrameFields>(fields));
  }
  if (error == simdjson::DEPTH_ERROR) {
    return use(boost::system::result<FrameFields>(Error::too_deep));
  }
  if (error != simdjson::NUMBER_ERROR) {
    return use(boost::system::result<FrameFields>(Error::malformed_json));
  }

  // simdjson refuses numbers outside the 64-bit/double range (an integer like 2^64, or 1e400), but
  // they are valid JSON and Ruby accepts them, e.g. in an ignored extra key. Boost.JSON settles it.
  boost::json::parse_options options;
  options.max_depth = max_json_depth;
  boost::system::error_code boost_error;
  const boost::json::value value = boost::json::parse(frame, boost_error, {}, options);
  if (boost_error) {
    return use(boost::system::result<FrameFields>(
        boost_error == boost::json::error::too_deep ? Error::too_deep : Error::malformed_json));
  }
  const auto* object = value.if_object();
  if (object == nullptr) return use(boost::system::result<FrameFields>(Error::not_an_object));
  FrameFields fields;
  // boost::json::object keeps the last of duplicate keys, as Ruby does.
  if (const auto* v = object->if_contains("command")) fields.command = field_of(*v);
  if (const auto* v = object->if_contains("identifier")) fields.identifier = field_of(*v);
  if (const auto* v = object->if_contains("data")) fields.data = field_of(*v, Keep::json);
  if (const auto* v = object->if_contains("history")) fields.history = field_of(*v, Keep::json);
  if (const auto* v = object->if_contains("presence")) fields.presence = field_of(*v, Keep::json);
  return use(boost::system::result<FrameFields>(fields));
}

std::optional<CommandType> command_type(std::string_view name) {
  if (name == "subscribe") return CommandType::subscribe;
  if (name == "unsubscribe") return CommandType::unsubscribe;
  if (name == "message") return CommandType::message;
  if (name == "history") return CommandType::history;
  if (name == "join") return CommandType::join;
  if (name == "leave") return CommandType::leave;
  if (name == "presence") return CommandType::presence;
  if (name == "whisper") return CommandType::whisper;
  if (name == "pong") return CommandType::pong;
  if (name == "ping") return CommandType::ping;
  return std::nullopt;
}

bool is_missing(const Field& field) {
  return field.kind == Field::Kind::absent || field.kind == Field::Kind::null;
}

// A "history" value. `required`: a history command must ask for something; a subscribe whose
// history asks for nothing simply has none (AnyCable's Subscribe only runs it when it does).
boost::system::result<std::optional<HistoryRequest>> history_of(const Field& field, bool required) {
  if (is_missing(field)) {
    if (required) return Error::missing_history;
    return std::optional<HistoryRequest>();
  }
  if (field.kind != Field::Kind::other) return Error::bad_history;
  auto request = decode_history(field.json);
  if (!request) return request.error();
  if (request->since <= 0 && request->streams.empty()) {
    if (required) return Error::bad_history;
    return std::optional<HistoryRequest>();
  }
  return std::optional<HistoryRequest>(std::move(*request));
}

// A "presence" value; required for join only.
boost::system::result<std::optional<PresenceRequest>> presence_of(const Field& field,
                                                                  bool required) {
  if (is_missing(field)) {
    if (required) return Error::missing_presence;
    return std::optional<PresenceRequest>();
  }
  if (field.kind != Field::Kind::other) return Error::bad_presence;
  auto request = decode_presence(field.json);
  if (!request) return request.error();
  return std::optional<PresenceRequest>(std::move(*request));
}

// The extension parts of a command whose identifier is already checked.
boost::system::result<void> add_extension_fields(Command& command, const FrameFields& fields) {
  switch (command.type) {
    case CommandType::subscribe: {
      auto history = history_of(fields.history, false);
      if (!history) return history.error();
      auto presence = presence_of(fields.presence, false);
      if (!presence) return presence.error();
      command.history = std::move(*history);
      command.presence = std::move(*presence);
      return {};
    }
    case CommandType::history: {
      auto history = history_of(fields.history, true);
      if (!history) return history.error();
      command.history = std::move(*history);
      return {};
    }
    case CommandType::join:
    case CommandType::leave: {
      auto presence = presence_of(fields.presence, command.type == CommandType::join);
      if (!presence) return presence.error();
      command.presence = std::move(*presence);
      return {};
    }
    case CommandType::presence:
      if (is_missing(fields.data)) return {};
      // Only an object can be an options hash ({"return_records": true}).
      if (fields.data.kind != Field::Kind::other || fields.data.json.front() != '{') {
        return Error::data_not_object;
      }
      command.data = fields.data.json;
      return {};
    case CommandType::whisper:
      // Unlike a message's, a whisper's data is sent as a JSON value, not as JSON text in a
      // string: a string value is a string to deliver, re-encoded as JSON here.
      if (is_missing(fields.data)) return Error::missing_data;
      if (fields.data.kind == Field::Kind::string) {
        append_json_string(command.data, fields.data.text);
      } else {
        command.data = fields.data.json;
      }
      return {};
    case CommandType::unsubscribe:
    case CommandType::message:
    case CommandType::pong:
    case CommandType::ping:
      return {};
  }
  CABLE_ASSERT(false && "every command type is handled above");
  return {};
}

// The checks run in the order Rails trips over them: command first, then the identifier (looked
// up before the data is decoded), then the data of a "message". Extension commands follow the
// same order, their own objects last.
boost::system::result<Command> command_from(const FrameFields& fields) {
  if (fields.command.kind != Field::Kind::string) return Error::missing_command;
  const auto type = command_type(fields.command.text);
  if (!type) return Error::unknown_command;
  if (*type == CommandType::pong || *type == CommandType::ping) {
    // Connection-level: an identifier, if any, means nothing; keep it only for log lines.
    Command command{*type, {}, {}, {}, {}};
    if (fields.identifier.kind == Field::Kind::string) {
      command.identifier = std::string(fields.identifier.text);
    }
    return command;
  }
  if (fields.identifier.kind != Field::Kind::string || fields.identifier.text.empty()) {
    return Error::missing_identifier;
  }
  Command command{*type, std::string(fields.identifier.text), {}, {}, {}};
  if (*type == CommandType::message) {
    // `"data":null` fails in Rails exactly like a missing key (JSON.parse(nil)).
    if (is_missing(fields.data)) return Error::missing_data;
    if (fields.data.kind != Field::Kind::string) return Error::data_not_string;
    command.data = std::string(fields.data.text);
    return command;
  }
  if (auto added = add_extension_fields(command, fields); !added) return added.error();
  return command;
}

// Parses a JSON text that must hold an object, for params: Boost.JSON with the depth cap.
boost::system::result<boost::json::object> parse_object(std::string_view text, Error not_json,
                                                        Error not_object) {
  boost::json::parse_options options;
  options.max_depth = max_json_depth;
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(text, error, {}, options);
  if (error) return error == boost::json::error::too_deep ? Error::too_deep : not_json;
  auto* object = value.if_object();
  if (object == nullptr) return not_object;
  return std::move(*object);
}

}  // namespace

boost::system::result<Command> decode_command(std::string_view frame) {
  return with_frame_fields(
      frame,
      [](const boost::system::result<FrameFields>& fields) -> boost::system::result<Command> {
        if (!fields) return fields.error();
        return command_from(*fields);
      });
}

std::string command_name(std::string_view frame) {
  return with_frame_fields(frame, [](const boost::system::result<FrameFields>& fields) {
    if (!fields || fields->command.kind != Field::Kind::string) return std::string();
    return std::string(fields->command.text);
  });
}

boost::system::result<ChannelIdentifier> parse_identifier(std::string_view identifier) {
  auto params = parse_object(identifier, Error::identifier_not_json, Error::identifier_not_object);
  if (!params) return params.error();
  const auto* channel = params->if_contains("channel");
  if (channel == nullptr || !channel->is_string()) return Error::missing_channel;
  // An empty channel name is still a name: routing reports it as an unknown channel, as Rails does.
  std::string name(channel->get_string());
  return ChannelIdentifier{std::move(name), std::move(*params)};
}

boost::system::result<boost::json::object> parse_action_data(std::string_view data) {
  return parse_object(data, Error::data_not_json, Error::data_not_object);
}

}  // namespace cablecast::protocol
