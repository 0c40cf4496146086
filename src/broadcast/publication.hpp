#pragma once
// Publications: what an application hands Cablecast to broadcast, in AnyCable's format, over
// HTTP (POST /_broadcast) or Redis ("__anycable__", anycable-rails' redis broadcast adapter).
// Pure: text in, values out.
//
//   {"stream":"chat_42","data":"{\"text\":\"hi\"}","meta":{"exclude_socket":"<sid>"}}
//   [{"stream":"a","data":"1"},{"stream":"b","data":"\"x\""}]        (delivered in this order)
//   {"command":"disconnect","payload":{"identifier":"{\"user\":\"x\"}","reconnect":false}}
//
// As AnyCable (Go's encoding/json) does, unknown keys are ignored and a null value counts as an
// absent one. Unlike AnyCable, which logs a body it cannot use and still answers 201, every
// malformed body is an error here (the HTTP endpoint answers 422).
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broadcast/errors.hpp"

namespace cablecast::broadcast {

struct Meta {
  std::string exclude_socket;  // the session id (sid) not to deliver to; empty: none
  std::string broadcast_type;  // the "type" key of every delivered frame; empty: none
  // AnyCable: "do not store this one in the stream's history" (whispers, presence events).
  bool transient = false;
  // The publication's place in its stream's history (broker/history.hpp), set by the broker
  // that stored it: offset 0 = none (not stored, or history is off).
  std::uint64_t offset = 0;
  std::string epoch;

  // Whether delivery depends on this meta: only then does it travel with the message to the
  // other nodes (broadcast/envelope.hpp). `transient` does (a receiving node's history must skip
  // it), as does a position (every node stamps the same one).
  bool affects_delivery() const {
    return !exclude_socket.empty() || !broadcast_type.empty() || transient || offset != 0;
  }
};

struct Publication {
  std::string stream;
  // The JSON text every subscriber gets as the frame's "message": `data` itself when it is one
  // JSON value, otherwise `data` as a JSON string (AnyCable's rule; Rails would drop it).
  std::string message;
  Meta meta;
};

// AnyCable's remote disconnect command: close every connection with these identifiers.
struct RemoteDisconnect {
  boost::json::object identifiers;  // compared as JSON objects (key order does not matter)
  bool reconnect = false;           // sent to the clients in the disconnect frame
  // The command's own text of `identifiers`, carried as is to the nodes: serializing the parsed
  // object again could change a number (doubles, or integers past 64 bits, do not round-trip),
  // and then no connection would compare equal. Empty: serialize `identifiers`.
  std::string identifiers_json = {};
};

// One body: publications in order, or one command.
struct Body {
  std::vector<Publication> publications;
  std::optional<RemoteDisconnect> disconnect;
};

struct ParseLimits {
  // Publications in one array body. Each becomes a publish to the broker and a delivery on every
  // node; 1 MiB (the default body limit) of the smallest ones would be ~40,000.
  std::size_t max_items = 10000;
};

boost::system::result<Body> parse_body(std::string_view text, const ParseLimits& limits = {});

}  // namespace cablecast::broadcast
