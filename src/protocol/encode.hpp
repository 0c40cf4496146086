#pragma once
// Server -> client messages, as JSON text (framing is the ws layer's job). Byte-compatible with
// Rails: same keys in the same order, and strings escaped as ActiveSupport::JSON does
// (`<` `>` `&` as \u003c \u003e \u0026, U+2028/U+2029 escaped; other non-ASCII raw UTF-8).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cablecast::protocol {

// {"type":"welcome"}
std::string encode_welcome();
// {"type":"ping","message":1767225600}
std::string encode_ping(std::int64_t unix_seconds);
// {"identifier":"<id>","type":"confirm_subscription"}
std::string encode_confirm(std::string_view identifier);
// {"identifier":"<id>","type":"reject_subscription"}
std::string encode_reject(std::string_view identifier);
// {"type":"disconnect","reason":"unauthorized","reconnect":false}
std::string encode_disconnect(std::string_view reason, bool reconnect);
// {"identifier":"<id>","message":<message_json>}: `message_json` is inserted as is; it must be
// one valid JSON value (callers validate payloads from outside with is_valid_json).
std::string encode_message(std::string_view identifier, std::string_view message_json);
// {"type":"<type>","identifier":"<id>","message":<message_json>}: a publication with
// meta.broadcast_type, keys in AnyCable's order (its Reply struct: type, identifier, message).
std::string encode_typed_message(std::string_view type, std::string_view identifier,
                                 std::string_view message_json);

// AnyCable's extended protocol (protocol.md 7.2-7.6). Keys in the order of AnyCable's Reply
// struct (type, identifier, message, presence, reason, reconnect, stream_id, epoch, offset, sid,
// restored, restored_ids), so frames compare equal to its byte for byte.

// {"type":"welcome","sid":"<sid>"}
std::string encode_welcome(std::string_view sid);
// {"type":"welcome","sid":"<sid>","restored":true,"restored_ids":["<id>",...]}
std::string encode_restored_welcome(std::string_view sid,
                                    const std::vector<std::string>& restored_ids);
// {"type":"confirm_history","identifier":"<id>"}
std::string encode_confirm_history(std::string_view identifier);
// {"type":"reject_history","identifier":"<id>"}
std::string encode_reject_history(std::string_view identifier);
// {"type":"pong"}: the answer to a client's ping command.
std::string encode_pong();
// {"identifier":"<id>","message":<message_json>,"stream_id":"<stream>","epoch":"<epoch>",
// "offset":<offset>}: a broadcast with its place in the stream's history. `message_json` as for
// encode_message.
std::string encode_positioned_message(std::string_view identifier, std::string_view message_json,
                                      std::string_view stream, std::string_view epoch,
                                      std::uint64_t offset);
// The *message* of a presence event (wrapped by encode_typed_message("presence", ...)):
// join  -> {"type":"join","id":"<id>","info":<info_json>}  (`info_json` one JSON value, as is)
// leave -> {"type":"leave","id":"<id>"}                     (`info_json` ignored)
std::string encode_presence_event(bool join, std::string_view id, std::string_view info_json);
// {"type":"presence","identifier":"<id>","message":{"type":"info","total":N,
// "records":[{"id":"<id>","info":<info_json>},...]}}: the answer to a presence command.
std::string encode_presence_info(
    std::string_view identifier,
    const std::vector<std::pair<std::string, std::string>>& id_and_info_json);
// {"type":"presence","identifier":"<id>","message":{"type":"error"}}
std::string encode_presence_error(std::string_view identifier);

// Appends `text` as a JSON string literal (with quotes), escaped as described above.
void append_json_string(std::string& out, std::string_view text);

// Rewrites JSON text from a standard serializer (Boost.JSON, as Channel::transmit and broadcast
// use) into what ActiveSupport::JSON writes for the same value: `<` `>` `&` and U+2028/U+2029
// as \u escapes (the rest already agrees: tests/conformance compares both servers byte for
// byte). Valid JSON holds these only inside string literals, so no parsing is needed; text
// with none of them (the common case) comes back as it went in, without a copy.
std::string escape_as_rails(std::string json);

// True when `text` is exactly one valid JSON value (surrounding whitespace allowed).
bool is_valid_json(std::string_view text);

}  // namespace cablecast::protocol
