#pragma once
// How a publication's meta reaches the other nodes through the pub/sub adapter.
//
// A publication without meta that matters for delivery travels as its message's JSON text alone:
// Rails' own wire format. One with `exclude_socket`, `broadcast_type`, `transient` or a history
// position (`offset` + `epoch`) travels with its meta hidden in JSON whitespace before the
// message:
//
//   "\t\r\t\r"  <meta as a JSON object, each byte as 4 whitespace characters>  "    "  <message>
//
// Every character before the message is one of the four JSON whitespace characters (space, tab,
// LF, CR), which RFC 8259 allows before a JSON value: a Rails process on the same Redis or
// PostgreSQL decodes the payload as the message itself and its clients get the broadcast (it
// ignores the meta: no exclusion, no type, no position). So history can be on while Rails and
// Cablecast nodes share a broker. Each byte of the meta is written as four base-4 digits, most
// significant first, with digit 0..3 = ' ', '\t', '\n', '\r'; the meta (JSON text, never a NUL
// byte) ends with the encoding of 0, four spaces. The mark cannot be produced by Rails' or
// Cablecast's encoders, which never write leading whitespace. Each node's hub unwraps it once,
// before building frames.
#include <boost/system/result.hpp>
#include <string>
#include <string_view>

#include "broadcast/publication.hpp"

namespace cablecast::broadcast {

inline constexpr std::string_view kEnvelopeMark = "\t\r\t\r";

// The payload to publish for `publication`: its message, or the envelope when meta matters.
std::string to_wire(const Publication& publication);
std::string wrap(const Meta& meta, std::string_view message);
// The envelope's start for `meta_json` (a JSON object's text): mark, encoded meta, end.
std::string envelope_prefix(std::string_view meta_json);

inline bool is_wrapped(std::string_view payload) { return payload.starts_with(kEnvelopeMark); }

struct Unwrapped {
  Meta meta;
  std::string_view message;  // a view into the payload given to unwrap()
};

// Reads an enveloped payload (is_wrapped() is true). Unknown meta keys are ignored, so newer
// nodes may add some. Errors: not_json (a character that is not an encoding digit, no end, or
// meta that is not JSON), and parse_body's meta errors.
boost::system::result<Unwrapped> unwrap(std::string_view payload);

}  // namespace cablecast::broadcast
