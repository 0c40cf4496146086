#pragma once
// Classifies the JSON text of one server -> client Action Cable message, with simdjson (this is
// the load generator's hot path: every delivered broadcast goes through here).
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace cablecast::bench {

struct ServerFrame {
  enum class Type {
    invalid,          // not JSON or not an object: a protocol error worth counting
    welcome,          // {"type":"welcome"}
    ping,             // {"type":"ping","message":<secs>}: ignored
    confirm,          // {"identifier":…,"type":"confirm_subscription"}
    reject,           // {"identifier":…,"type":"reject_subscription"}
    disconnect,       // {"type":"disconnect",…}
    message,          // {"identifier":…,"message":{…}}
    confirm_history,  // {"type":"confirm_history","identifier":…} (extended protocol)
    reject_history,   // {"type":"reject_history","identifier":…} (extended protocol)
    other,            // any other "type"
  };
  Type type = Type::invalid;
  // Fields of "message" this benchmark puts in its own commands; -1 when absent.
  std::string_view action;    // valid until the next read()
  std::int64_t slot = -1;     // which concurrent sender (broadcast) / stream (fanout)
  std::int64_t seq = -1;      // sequence number within that sender / stream / client
  std::int64_t sent_ns = -1;  // sender's steady_clock at send time
  // Extended protocol (actioncable-v1-ext-json), empty / -1 / false when absent.
  std::string_view sid;        // welcome: the session id to restore with
  bool restored = false;       // welcome: the session was restored
  std::string_view stream_id;  // message: its stream and position there
  std::string_view epoch;
  std::int64_t offset = -1;
};

// One per event loop: owns the simdjson parser and the padded copy of the input.
class ServerFrameReader {
 public:
  ServerFrame read(std::string_view text);

 private:
  simdjson::dom::parser parser_;
  std::string padded_;  // simdjson reads up to SIMDJSON_PADDING bytes past the end
};

}  // namespace cablecast::bench
