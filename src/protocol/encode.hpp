#pragma once
// Server -> client messages, as JSON text (framing is the ws layer's job). Byte-compatible with
// Rails: same keys in the same order, and strings escaped as ActiveSupport::JSON does
// (`<` `>` `&` as \u003c \u003e \u0026, U+2028/U+2029 escaped; other non-ASCII raw UTF-8).
#include <cstdint>
#include <string>
#include <string_view>

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

// Appends `text` as a JSON string literal (with quotes), escaped as described above.
void append_json_string(std::string& out, std::string_view text);

// True when `text` is exactly one valid JSON value (surrounding whitespace allowed).
bool is_valid_json(std::string_view text);

}  // namespace cablecast::protocol
