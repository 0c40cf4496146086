#include "broadcast/envelope.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace cablecast::broadcast {

namespace json = boost::json;

std::string to_wire(const Publication& publication) {
  if (!publication.meta.affects_delivery()) return publication.message;
  return wrap(publication.meta, publication.message);
}

std::string wrap(const Meta& meta, std::string_view message) {
  json::object header;
  if (!meta.exclude_socket.empty()) header["exclude_socket"] = meta.exclude_socket;
  if (!meta.broadcast_type.empty()) header["broadcast_type"] = meta.broadcast_type;
  if (meta.transient) header["transient"] = true;
  if (meta.offset != 0) {
    header["offset"] = meta.offset;
    header["epoch"] = meta.epoch;
  }
  std::string out(1, kEnvelopeMark);
  out += json::serialize(header);
  out += '\n';
  out += message;
  return out;
}

boost::system::result<Unwrapped> unwrap(std::string_view payload) {
  if (!is_wrapped(payload)) return Error::not_json;
  const std::size_t end = payload.find('\n');
  if (end == std::string_view::npos) return Error::not_json;
  boost::system::error_code ec;
  json::value header = json::parse(payload.substr(1, end - 1), ec);
  if (ec) return Error::not_json;
  if (!header.is_object()) return Error::meta_not_object;
  Unwrapped out;
  const json::object& object = header.get_object();
  if (const json::value* v = object.if_contains("exclude_socket")) {
    if (!v->is_string()) return Error::exclude_socket_not_string;
    out.meta.exclude_socket = v->get_string();
  }
  if (const json::value* v = object.if_contains("broadcast_type")) {
    if (!v->is_string()) return Error::broadcast_type_not_string;
    out.meta.broadcast_type = v->get_string();
  }
  if (const json::value* v = object.if_contains("transient")) {
    if (!v->is_bool()) return Error::transient_not_boolean;
    out.meta.transient = v->get_bool();
  }
  // A position: written by a node's broker (the Redis history script writes it too).
  if (const json::value* v = object.if_contains("offset")) {
    const json::value* epoch = object.if_contains("epoch");
    if (!v->is_number() || !epoch || !epoch->is_string()) return Error::not_json;
    boost::system::error_code offset_error;
    out.meta.offset = v->to_number<std::uint64_t>(offset_error);
    if (offset_error) return Error::not_json;
    out.meta.epoch = epoch->get_string();
  }
  out.message = payload.substr(end + 1);
  return out;
}

}  // namespace cablecast::broadcast
