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
  std::string out = envelope_prefix(json::serialize(header));
  out += message;
  return out;
}

namespace {

constexpr char kDigits[4] = {' ', '\t', '\n', '\r'};

int digit_value(char c) {
  switch (c) {
    case ' ':
      return 0;
    case '\t':
      return 1;
    case '\n':
      return 2;
    case '\r':
      return 3;
    default:
      return -1;
  }
}

}  // namespace

std::string envelope_prefix(std::string_view meta_json) {
  std::string out(kEnvelopeMark);
  out.reserve(kEnvelopeMark.size() + 4 * (meta_json.size() + 1));
  auto put = [&out](unsigned char byte) {
    for (int shift = 6; shift >= 0; shift -= 2) out += kDigits[(byte >> shift) & 3];
  };
  for (char c : meta_json) put(static_cast<unsigned char>(c));
  put(0);  // the end of the meta
  return out;
}

boost::system::result<Unwrapped> unwrap(std::string_view payload) {
  if (!is_wrapped(payload)) return Error::not_json;
  std::string meta_json;
  std::size_t at = kEnvelopeMark.size();
  for (;; at += 4) {
    if (at + 4 > payload.size()) return Error::not_json;  // no end of meta
    int byte = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const int digit = digit_value(payload[at + i]);
      if (digit < 0) return Error::not_json;
      byte = byte * 4 + digit;
    }
    if (byte == 0) break;
    meta_json += static_cast<char>(byte);
  }
  const std::size_t end = at + 4;
  boost::system::error_code ec;
  json::value header = json::parse(meta_json, ec);
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
  out.message = payload.substr(end);
  return out;
}

}  // namespace cablecast::broadcast
