// Fuzzes the broadcast body parser (HTTP POST /_broadcast, Redis "__anycable__"), the meta
// envelope and Rails' internal disconnect messages. Invariants checked on every input: no crash
// or sanitizer report; an accepted body is publications or one command, never both; every
// message is one JSON value a frame can carry; the wire form of a publication comes back
// through unwrap() unchanged; a disconnect command names a connection and survives the trip
// through Rails' internal broadcasting.
#include <boost/json/parse.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "broadcast/envelope.hpp"
#include "broadcast/publication.hpp"
#include "broadcast/remote_disconnect.hpp"

namespace {

using namespace cablecast::broadcast;

void check(bool condition) {
  if (!condition) std::abort();
}

// What the hub inserts verbatim into frames must be exactly one JSON value.
void check_json_value(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code error;
  boost::json::parse(text, error, {}, options);
  check(!error);
}

void check_publication(const Publication& publication) {
  check(!publication.stream.empty());
  check_json_value(publication.message);
  const std::string wire = to_wire(publication);
  if (!publication.meta.affects_delivery()) {
    check(wire == publication.message);  // Rails nodes must keep understanding it
    check(!is_wrapped(wire));
    return;
  }
  check(is_wrapped(wire));
  const auto unwrapped = unwrap(wire);
  check(unwrapped.has_value());
  check(unwrapped->message == publication.message);
  check(unwrapped->meta.exclude_socket == publication.meta.exclude_socket);
  check(unwrapped->meta.broadcast_type == publication.meta.broadcast_type);
}

void check_disconnect(const RemoteDisconnect& disconnect) {
  check(!internal_stream(disconnect.identifiers).empty());
  const auto message = parse_internal_message(encode_internal_disconnect(disconnect));
  check(message.has_value());
  check(message->reconnect == disconnect.reconnect);
  check(message->identifiers.has_value() && *message->identifiers == disconnect.identifiers);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(bytes), size);

  if (const auto body = parse_body(input, ParseLimits{64})) {
    check(body->publications.empty() != !body->disconnect.has_value());
    check(body->publications.size() <= 64);
    for (const auto& publication : body->publications) check_publication(publication);
    if (body->disconnect) check_disconnect(*body->disconnect);
  }

  // The raw input is also a plausible envelope or internal message.
  if (const auto unwrapped = unwrap(input)) {
    check(is_wrapped(input));
    check(input.ends_with(unwrapped->message));
  }
  (void)parse_internal_message(input);
  return 0;
}
