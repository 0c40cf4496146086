#include "broadcast/remote_disconnect.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <vector>

namespace cablecast::broadcast {

namespace json = boost::json;

namespace {

// Ruby's to_s of a decoded identifier value; nothing for the values filter_map drops.
std::optional<std::string> ruby_text(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return std::nullopt;
    case json::kind::bool_:
      if (!value.get_bool()) return std::nullopt;
      return std::string("true");
    case json::kind::string:
      return std::string(value.get_string());
    case json::kind::int64:
      return std::to_string(value.get_int64());
    case json::kind::uint64:
      return std::to_string(value.get_uint64());
    default:  // doubles, arrays, objects: no Rails identifier looks like these
      return json::serialize(value);
  }
}

}  // namespace

std::string connection_identifier(const json::object& identifiers) {
  std::vector<std::string> values;
  values.reserve(identifiers.size());
  for (const auto& entry : identifiers) {
    if (auto text = ruby_text(entry.value())) values.push_back(std::move(*text));
  }
  std::sort(values.begin(), values.end());  // byte order, as Ruby's String#<=>
  std::string joined;
  for (const auto& value : values) {
    if (!joined.empty()) joined += ':';
    joined += value;
  }
  return joined;
}

std::string internal_stream(const json::object& identifiers) {
  std::string id = connection_identifier(identifiers);
  return id.empty() ? std::string() : "action_cable/" + id;
}

std::string encode_internal_disconnect(const RemoteDisconnect& disconnect) {
  std::string out = R"({"type":"disconnect","reconnect":)";
  out += disconnect.reconnect ? "true" : "false";
  out += R"(,"identifiers":)";
  out += disconnect.identifiers_json.empty() ? json::serialize(disconnect.identifiers)
                                             : disconnect.identifiers_json;
  out += '}';
  return out;
}

std::optional<InternalMessage> parse_internal_message(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const json::object& object = value.get_object();
  const json::value* type = object.if_contains("type");
  if (!type || !type->is_string() || type->get_string() != "disconnect") return std::nullopt;
  InternalMessage message;
  if (const json::value* reconnect = object.if_contains("reconnect"); reconnect) {
    // Ruby's message.fetch("reconnect", true) passes any value on; only false is falsy there
    // besides nil, which our JSON null stands for.
    message.reconnect = !(reconnect->is_null() || (reconnect->is_bool() && !reconnect->get_bool()));
  }
  if (const json::value* identifiers = object.if_contains("identifiers");
      identifiers && identifiers->is_object()) {
    message.identifiers = identifiers->get_object();
  }
  return message;
}

}  // namespace cablecast::broadcast
