#pragma once
// How a publication's meta reaches the other nodes through the pub/sub adapter.
//
// A publication without meta that matters for delivery travels as its message's JSON text alone:
// Rails' own wire format, so Rails processes sharing the broker keep receiving it. One with
// `exclude_socket`, `broadcast_type`, `transient` or a history position (`offset` + `epoch`)
// travels enveloped:
//
//   "\x1E" <meta as a JSON object> "\n" <message JSON text>
//
// 0x1E (ASCII record separator, the byte RFC 7464 puts before each JSON text of a sequence)
// cannot start a JSON text, so an enveloped payload can never be taken for a plain one, and
// serialized JSON holds no raw newline, so the first "\n" ends the meta. A Rails process on the
// same broker fails to JSON-decode it and logs that (its clients do not get this publication);
// docs/broadcasting.md says so. Each node's hub unwraps it once, before building frames.
#include <boost/system/result.hpp>
#include <string>
#include <string_view>

#include "broadcast/publication.hpp"

namespace cablecast::broadcast {

inline constexpr char kEnvelopeMark = '\x1E';

// The payload to publish for `publication`: its message, or the envelope when meta matters.
std::string to_wire(const Publication& publication);
std::string wrap(const Meta& meta, std::string_view message);

inline bool is_wrapped(std::string_view payload) {
  return !payload.empty() && payload.front() == kEnvelopeMark;
}

struct Unwrapped {
  Meta meta;
  std::string_view message;  // a view into the payload given to unwrap()
};

// Reads an enveloped payload (is_wrapped() is true). Unknown meta keys are ignored, so newer
// nodes may add some. Errors: not_json (no meta object or no "\n"), and parse_body's meta errors.
boost::system::result<Unwrapped> unwrap(std::string_view payload);

}  // namespace cablecast::broadcast
