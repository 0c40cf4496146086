#include "broadcast/publication.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "broadcast/remote_disconnect.hpp"

namespace cablecast::broadcast {

namespace json = boost::json;
using boost::system::result;

namespace {

// Deeper JSON is refused (the body) or not treated as JSON (a publication's data): the same cap
// as client frames get (protocol::max_json_depth), so no payload nests deeper than a frame may.
constexpr std::size_t kMaxDepth = 64;

json::parse_options depth_limited() {
  json::parse_options options;
  options.max_depth = kMaxDepth;
  return options;
}

// Go's encoding/json leaves a field at its zero value for a JSON null: so do we.
const json::value* field(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value && !value->is_null() ? value : nullptr;
}

result<Meta> parse_meta(const json::value& value) {
  if (!value.is_object()) return Error::meta_not_object;
  const json::object& object = value.get_object();
  Meta meta;
  if (const json::value* v = field(object, "exclude_socket")) {
    if (!v->is_string()) return Error::exclude_socket_not_string;
    meta.exclude_socket = v->get_string();
  }
  if (const json::value* v = field(object, "broadcast_type")) {
    if (!v->is_string()) return Error::broadcast_type_not_string;
    meta.broadcast_type = v->get_string();
  }
  if (const json::value* v = field(object, "transient")) {
    if (!v->is_bool()) return Error::transient_not_boolean;
    meta.transient = v->get_bool();
  }
  return meta;
}

// The JSON text `data` (a parsed JSON string, so valid UTF-8) is delivered as: see
// Publication::message.
std::string message_from_data(std::string_view data) {
  // Only validity matters here: the parsed value goes at once, so its memory comes from one
  // buffer released in one piece.
  unsigned char buffer[4096];
  json::monotonic_resource scratch(buffer, sizeof buffer);
  boost::system::error_code ec;
  json::parse(data, ec, &scratch, depth_limited());
  if (!ec) return std::string(data);
  return json::serialize(json::string(data));
}

result<Publication> parse_publication(const json::object& object) {
  const json::value* stream = field(object, "stream");
  if (!stream) return Error::missing_stream;
  if (!stream->is_string()) return Error::stream_not_string;
  if (stream->get_string().empty()) return Error::missing_stream;
  const json::value* data = field(object, "data");
  if (!data) return Error::missing_data;
  if (!data->is_string()) return Error::data_not_string;
  Publication publication;
  publication.stream = stream->get_string();
  publication.message = message_from_data(data->get_string());
  if (const json::value* meta = field(object, "meta")) {
    auto parsed = parse_meta(*meta);
    if (!parsed) return parsed.error();
    publication.meta = std::move(*parsed);
  }
  return publication;
}

result<RemoteDisconnect> parse_command(const json::value& command, const json::object& object) {
  if (!command.is_string()) return Error::command_not_string;
  if (command.get_string() != "disconnect") return Error::unknown_command;
  const json::value* payload = field(object, "payload");
  if (!payload || !payload->is_object()) return Error::payload_not_object;
  const json::value* identifier = field(payload->get_object(), "identifier");
  if (!identifier || !identifier->is_string()) return Error::identifier_not_string;
  boost::system::error_code ec;
  json::value identifiers = json::parse(identifier->get_string(), ec, {}, depth_limited());
  if (ec || !identifiers.is_object()) return Error::identifier_not_object;
  // Connections are found by their Rails connection identifier: one with no value names none.
  if (connection_identifier(identifiers.get_object()).empty()) return Error::identifier_empty;
  RemoteDisconnect disconnect{std::move(identifiers.get_object()), false,
                              std::string(identifier->get_string())};
  if (const json::value* reconnect = field(payload->get_object(), "reconnect")) {
    if (!reconnect->is_bool()) return Error::reconnect_not_boolean;
    disconnect.reconnect = reconnect->get_bool();
  }
  return disconnect;
}

}  // namespace

result<Body> parse_body(std::string_view text, const ParseLimits& limits) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec, {}, depth_limited());
  if (ec) return Error::not_json;
  Body body;
  if (root.is_array()) {
    const json::array& items = root.get_array();
    if (items.empty()) return Error::empty_array;
    if (items.size() > limits.max_items) return Error::too_many_items;
    body.publications.reserve(items.size());
    for (const json::value& item : items) {
      if (!item.is_object()) return Error::item_not_object;
      auto publication = parse_publication(item.get_object());
      if (!publication) return publication.error();
      body.publications.push_back(std::move(*publication));
    }
    return body;
  }
  if (!root.is_object()) return Error::not_object_or_array;
  const json::object& object = root.get_object();
  // As AnyCable: a body with a stream is a publication; one without is a command, if it is one.
  if (object.contains("stream")) {
    auto publication = parse_publication(object);
    if (!publication) return publication.error();
    body.publications.push_back(std::move(*publication));
    return body;
  }
  const json::value* command = field(object, "command");
  if (!command) return Error::missing_stream;
  auto disconnect = parse_command(*command, object);
  if (!disconnect) return disconnect.error();
  body.disconnect = std::move(*disconnect);
  return body;
}

}  // namespace cablecast::broadcast
