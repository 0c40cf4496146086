// Fuzzes the client-command decoder and the string encoder. Invariants checked on every input:
// no crash or sanitizer report; a decoded command satisfies what decode_command promises (for
// AnyCable's extension commands too: history and presence within their bounds, whisper and
// presence data valid JSON); an encoded string is valid JSON that parses back to the input (to
// U+FFFD-repaired input when the bytes are not UTF-8); an encoded message embeds the identifier the
// same way.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/command.hpp"
#include "protocol/encode.hpp"

namespace {

using namespace cablecast::protocol;

void check(bool condition) {
  if (!condition) std::abort();
}

// Strict UTF-8 check written independently of the encoder's, as an oracle: decodes each scalar
// value and refuses overlongs, surrogates, values above U+10FFFF and truncated sequences.
bool is_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = lead < 0x80         ? 1
                         : lead >> 5 == 0x6  ? 2
                         : lead >> 4 == 0xE  ? 3
                         : lead >> 3 == 0x1E ? 4
                                             : 0;
    if (length == 0 || i + length > text.size()) return false;
    std::uint32_t scalar = length == 1 ? lead : lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (next >> 6 != 0x2) return false;
      scalar = scalar << 6 | (next & 0x3F);
    }
    constexpr std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (scalar < smallest[length] || scalar > 0x10FFFF || (scalar >= 0xD800 && scalar <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

// Encodes `text` as a JSON string and checks that a strict parser reads it back unchanged.
void check_string_round_trip(std::string_view text) {
  std::string encoded;
  append_json_string(encoded, text);
  check(is_valid_json(encoded));
  // Rails' HTML-safe escaping: none of these may appear raw in what we send.
  check(encoded.find_first_of("<>&") == std::string::npos);
  check(encoded.find("\u2028") == std::string::npos && encoded.find("\u2029") == std::string::npos);
  boost::system::error_code error;
  const auto parsed = boost::json::parse(encoded, error);
  check(!error && parsed.is_string());
  if (is_utf8(text)) {
    check(std::string_view(parsed.get_string()) == text);
  } else {
    // Each invalid subpart (1 to 3 bytes) became one 3-byte U+FFFD; nothing was dropped.
    check(parsed.get_string().size() >= text.size());
  }

  // The identifier inside a message frame is that same string; the payload is inserted as is.
  const std::string message = encode_message(text, "null");
  const auto frame = boost::json::parse(message, error);
  check(!error && frame.is_object() && frame.as_object().size() == 2);
  check(frame.as_object().at("identifier") == parsed);
  check(frame.as_object().at("message").is_null());
}

void check_history(const HistoryRequest& history) {
  check(history.since > 0 || !history.streams.empty());
  check(history.since >= 0);
  check(history.streams.size() <= max_history_streams);
  for (const auto& [stream, position] : history.streams) {
    check(stream.size() <= max_stream_name_bytes);
    check(!position.epoch.empty() && position.epoch.size() <= max_epoch_bytes);
  }
}

void check_presence(const PresenceRequest& presence) {
  check(!presence.id.empty());
  check(presence.id.size() <= max_presence_id_bytes);
  check(presence.info.size() <= max_presence_info_bytes);
  check(is_valid_json(presence.info));
  // The info is inserted as is into presence events: the frame must stay valid JSON.
  check(is_valid_json(encode_presence_event(true, presence.id, presence.info)));
}

void check_extension_fields(const Command& command) {
  const bool carries_history =
      command.type == CommandType::subscribe || command.type == CommandType::history;
  const bool carries_presence = command.type == CommandType::subscribe ||
                                command.type == CommandType::join ||
                                command.type == CommandType::leave;
  check(carries_history || !command.history);
  check(carries_presence || !command.presence);
  if (command.type == CommandType::history) check(command.history.has_value());
  if (command.type == CommandType::join) check(command.presence.has_value());
  if (command.history) check_history(*command.history);
  if (command.presence) check_presence(*command.presence);
  if (command.type == CommandType::whisper) check(is_valid_json(command.data));
  if (command.type == CommandType::presence && !command.data.empty()) {
    check(is_valid_json(command.data) && command.data.front() == '{');
  }
}

void check_decoded(const Command& command) {
  check_extension_fields(command);
  if (command.type == CommandType::pong || command.type == CommandType::ping) return;
  check(!command.identifier.empty());
  if (command.type != CommandType::message && command.type != CommandType::whisper &&
      command.type != CommandType::presence) {
    check(command.data.empty());
  }
  // Echoing the identifier must give back exactly the bytes the client sent (decoded).
  check_string_round_trip(command.identifier);

  const auto identifier = parse_identifier(command.identifier);
  if (identifier) {
    const auto* channel = identifier->params.if_contains("channel");
    check(channel != nullptr && channel->is_string() &&
          channel->get_string() == identifier->channel);
  }
  if (command.type == CommandType::message) {
    const auto data = parse_action_data(command.data);
    if (data) check(is_valid_json(command.data));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(bytes), size);

  const auto command = decode_command(input);
  const std::string name = command_name(input);
  if (command) {
    check_decoded(*command);
    check(name == "subscribe" || name == "unsubscribe" || name == "message" || name == "history" ||
          name == "join" || name == "leave" || name == "presence" || name == "whisper" ||
          name == "pong" || name == "ping");
  }

  // The raw input is also a plausible identifier, data string or payload.
  (void)parse_identifier(input);
  const auto data = parse_action_data(input);
  if (data) check(is_valid_json(input));
  check_string_round_trip(input);
  return 0;
}
