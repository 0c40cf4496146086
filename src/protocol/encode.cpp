// Server -> client messages, written straight into one reserved string: these run once per
// broadcast per subscriber identifier, so no JSON DOM and no re-parsing on the way out.
#include "protocol/encode.hpp"

#include <simdjson.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <charconv>
#include <memory>
#include <new>

#include "core/assert.hpp"
#include "protocol/command.hpp"

namespace cablecast::protocol {
namespace {

// How ActiveSupport::JSON.encode writes one ASCII byte inside a string (empty = as is). The JSON
// gem escapes `"`, `\` and control characters (\b \t \n \f \r short, the rest as lowercase
// \u00xx); ActiveSupport adds `<` `>` `&` so the output is safe to embed in HTML. DEL stays raw.
struct AsciiEscape {
  std::array<char, 6> text{};
  std::uint8_t size = 0;
};

constexpr std::array<AsciiEscape, 128> make_ascii_escapes() {
  std::array<AsciiEscape, 128> escapes{};
  constexpr char hex[] = "0123456789abcdef";
  for (int c = 0; c < 0x20; ++c) {
    escapes[c] = {{'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]}, 6};
  }
  escapes['\b'] = {{'\\', 'b'}, 2};
  escapes['\t'] = {{'\\', 't'}, 2};
  escapes['\n'] = {{'\\', 'n'}, 2};
  escapes['\f'] = {{'\\', 'f'}, 2};
  escapes['\r'] = {{'\\', 'r'}, 2};
  escapes['"'] = {{'\\', '"'}, 2};
  escapes['\\'] = {{'\\', '\\'}, 2};
  escapes['<'] = {{'\\', 'u', '0', '0', '3', 'c'}, 6};
  escapes['>'] = {{'\\', 'u', '0', '0', '3', 'e'}, 6};
  escapes['&'] = {{'\\', 'u', '0', '0', '2', '6'}, 6};
  return escapes;
}

constexpr auto ascii_escapes = make_ascii_escapes();

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

// One step over a non-ASCII position: how many bytes it spans and whether they form a valid
// UTF-8 sequence. An invalid one spans its "maximal subpart" (Unicode 15, 3.9), the span a
// browser's TextDecoder also replaces with one U+FFFD.
struct Utf8Step {
  std::size_t size;
  bool valid;
};

Utf8Step utf8_step(const unsigned char* p, const unsigned char* end) {
  const unsigned char lead = p[0];
  std::size_t length;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // no overlong 3-byte forms
    if (lead == 0xED) second_max = 0x9F;  // no UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // no overlong 4-byte forms
    if (lead == 0xF4) second_max = 0x8F;  // nothing above U+10FFFF
  } else {
    return {1, false};  // a stray continuation byte, C0/C1, or F5..FF
  }
  const std::size_t available = static_cast<std::size_t>(end - p);
  if (available < 2 || p[1] < second_min || p[1] > second_max) return {1, false};
  for (std::size_t i = 2; i < length; ++i) {
    if (i >= available || p[i] < 0x80 || p[i] > 0xBF) return {i, false};
  }
  return {length, true};
}

std::string encode_subscription_reply(std::string_view identifier, std::string_view type_tail) {
  std::string out;
  out.reserve(identifier.size() + identifier.size() / 4 + 64);
  out.append(R"({"identifier":)");
  append_json_string(out, identifier);
  out.append(type_tail);
  return out;
}

simdjson::dom::parser make_payload_parser(std::size_t capacity) {
  simdjson::dom::parser parser;
  // simdjson allocates with nothrow; report exhaustion the way every other allocation does.
  if (parser.allocate(capacity, max_json_depth) != simdjson::SUCCESS) throw std::bad_alloc();
  return parser;
}

// {"type":"<type>","identifier":"<id>"}: AnyCable's order, type first.
std::string encode_typed_reply(std::string_view head, std::string_view identifier) {
  std::string out;
  out.reserve(head.size() + identifier.size() + identifier.size() / 4 + 20);
  out.append(head);
  out.append(R"(,"identifier":)");
  append_json_string(out, identifier);
  out.push_back('}');
  return out;
}

void append_unsigned(std::string& out, std::uint64_t value) {
  std::array<char, 24> digits{};
  const auto [digits_end, error] =
      std::to_chars(digits.data(), digits.data() + digits.size(), value);
  CABLE_ASSERT(error == std::errc{});  // 24 chars hold any uint64
  out.append(digits.data(), digits_end);
}

// Payloads up to this size are checked by a per-thread parser that keeps its buffers; a bigger
// one gets a parser of its own so it does not pin its buffers to the thread.
constexpr std::size_t retained_parser_capacity = 64 * 1024;

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  const auto* run = p;  // start of bytes that are copied unchanged
  const auto flush = [&] { out.append(reinterpret_cast<const char*>(run), p - run); };
  while (p != end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      const AsciiEscape& escape = ascii_escapes[c];
      if (escape.size == 0) {
        ++p;
        continue;
      }
      flush();
      out.append(escape.text.data(), escape.size);
      run = ++p;
      continue;
    }
    const Utf8Step step = utf8_step(p, end);
    if (!step.valid) {
      // Rails would raise here; callers pass validated UTF-8, so this only guards the invariant
      // that every frame we send is valid UTF-8 (a browser closes the socket otherwise).
      flush();
      out.append(replacement_character);
      p += step.size;
      run = p;
      continue;
    }
    // U+2028 / U+2029 are line terminators in JavaScript source; ActiveSupport escapes them.
    if (step.size == 3 && c == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
      flush();
      out.append(p[2] == 0xA8 ? "\\u2028" : "\\u2029");
      p += 3;
      run = p;
      continue;
    }
    p += step.size;
  }
  flush();
  out.push_back('"');
}

std::string encode_welcome() { return R"({"type":"welcome"})"; }

std::string encode_ping(std::int64_t unix_seconds) {
  constexpr std::string_view head = R"({"type":"ping","message":)";
  std::array<char, 24> digits{};
  const auto [digits_end, error] =
      std::to_chars(digits.data(), digits.data() + digits.size(), unix_seconds);
  CABLE_ASSERT(error == std::errc{});  // 24 chars hold any int64
  std::string out;
  out.reserve(head.size() + 24);
  out.append(head);
  out.append(digits.data(), digits_end);
  out.push_back('}');
  return out;
}

std::string encode_confirm(std::string_view identifier) {
  return encode_subscription_reply(identifier, R"(,"type":"confirm_subscription"})");
}

std::string encode_reject(std::string_view identifier) {
  return encode_subscription_reply(identifier, R"(,"type":"reject_subscription"})");
}

std::string encode_disconnect(std::string_view reason, bool reconnect) {
  std::string out;
  out.reserve(reason.size() + 64);
  out.append(R"({"type":"disconnect","reason":)");
  append_json_string(out, reason);
  out.append(reconnect ? R"(,"reconnect":true})" : R"(,"reconnect":false})");
  return out;
}

std::string encode_message(std::string_view identifier, std::string_view message_json) {
  std::string out;
  // Identifiers are JSON text themselves, so each of their quotes grows into two bytes.
  out.reserve(identifier.size() + identifier.size() / 4 + message_json.size() + 32);
  out.append(R"({"identifier":)");
  append_json_string(out, identifier);
  out.append(R"(,"message":)");
  out.append(message_json);
  out.push_back('}');
  return out;
}

std::string encode_typed_message(std::string_view type, std::string_view identifier,
                                 std::string_view message_json) {
  std::string out;
  out.reserve(type.size() + identifier.size() + identifier.size() / 4 + message_json.size() + 48);
  out.append(R"({"type":)");
  append_json_string(out, type);
  out.append(R"(,"identifier":)");
  append_json_string(out, identifier);
  out.append(R"(,"message":)");
  out.append(message_json);
  out.push_back('}');
  return out;
}

std::string encode_welcome(std::string_view sid) {
  std::string out;
  out.reserve(sid.size() + 40);
  out.append(R"({"type":"welcome","sid":)");
  append_json_string(out, sid);
  out.push_back('}');
  return out;
}

std::string encode_restored_welcome(std::string_view sid,
                                    const std::vector<std::string>& restored_ids) {
  std::size_t size = sid.size() + 80;
  for (const auto& id : restored_ids) size += id.size() + id.size() / 4 + 3;
  std::string out;
  out.reserve(size);
  out.append(R"({"type":"welcome","sid":)");
  append_json_string(out, sid);
  out.append(R"(,"restored":true,"restored_ids":[)");
  for (std::size_t i = 0; i < restored_ids.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json_string(out, restored_ids[i]);
  }
  out.append("]}");
  return out;
}

std::string encode_confirm_history(std::string_view identifier) {
  return encode_typed_reply(R"({"type":"confirm_history")", identifier);
}

std::string encode_reject_history(std::string_view identifier) {
  return encode_typed_reply(R"({"type":"reject_history")", identifier);
}

std::string encode_pong() { return R"({"type":"pong"})"; }

std::string encode_positioned_message(std::string_view identifier, std::string_view message_json,
                                      std::string_view stream, std::string_view epoch,
                                      std::uint64_t offset) {
  std::string out;
  out.reserve(identifier.size() + identifier.size() / 4 + message_json.size() + stream.size() +
              epoch.size() + 80);
  out.append(R"({"identifier":)");
  append_json_string(out, identifier);
  out.append(R"(,"message":)");
  out.append(message_json);
  out.append(R"(,"stream_id":)");
  append_json_string(out, stream);
  out.append(R"(,"epoch":)");
  append_json_string(out, epoch);
  out.append(R"(,"offset":)");
  append_unsigned(out, offset);
  out.push_back('}');
  return out;
}

std::string encode_presence_event(bool join, std::string_view id, std::string_view info_json) {
  std::string out;
  out.reserve(id.size() + info_json.size() + 40);
  out.append(join ? R"({"type":"join","id":)" : R"({"type":"leave","id":)");
  append_json_string(out, id);
  if (join) {
    out.append(R"(,"info":)");
    out.append(info_json);
  }
  out.push_back('}');
  return out;
}

std::string encode_presence_info(
    std::string_view identifier,
    const std::vector<std::pair<std::string, std::string>>& id_and_info_json) {
  std::size_t size = identifier.size() + identifier.size() / 4 + 96;
  for (const auto& [id, info] : id_and_info_json) size += id.size() + info.size() + 20;
  std::string out;
  out.reserve(size);
  out.append(R"({"type":"presence","identifier":)");
  append_json_string(out, identifier);
  out.append(R"(,"message":{"type":"info","total":)");
  append_unsigned(out, id_and_info_json.size());
  out.append(R"(,"records":[)");
  bool first = true;
  for (const auto& [id, info] : id_and_info_json) {
    if (!first) out.push_back(',');
    first = false;
    out.append(R"({"id":)");
    append_json_string(out, id);
    out.append(R"(,"info":)");
    out.append(info);
    out.push_back('}');
  }
  out.append("]}}");
  return out;
}

std::string encode_presence_error(std::string_view identifier) {
  std::string out;
  out.reserve(identifier.size() + identifier.size() / 4 + 72);
  out.append(R"({"type":"presence","identifier":)");
  append_json_string(out, identifier);
  out.append(R"(,"message":{"type":"error"}})");
  return out;
}

std::string escape_as_rails(std::string json) {
  // 0xE2 leads U+2028/U+2029 (E2 80 A8/A9) and other characters, checked below.
  std::size_t at = json.find_first_of("<>&\xE2");
  if (at == std::string::npos) return json;
  std::string out;
  out.reserve(json.size() + 16);
  out.append(json, 0, at);
  for (std::size_t i = at; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

bool is_valid_json(std::string_view text) {
  std::unique_ptr<simdjson::dom::parser> own_parser;
  simdjson::dom::parser* parser;
  if (text.size() <= retained_parser_capacity) {
    thread_local simdjson::dom::parser retained = make_payload_parser(4096);
    parser = &retained;
  } else {
    own_parser = std::make_unique<simdjson::dom::parser>(make_payload_parser(text.size()));
    parser = own_parser.get();
  }
  // Payloads get the client-frame depth cap too. (Rails itself JSON.parses each broadcast before
  // transmitting it, with Ruby's default max_nesting of 100.)
  const auto error = parser->parse(text.data(), text.size()).error();
  if (error != simdjson::NUMBER_ERROR) return error == simdjson::SUCCESS;
  // simdjson refuses numbers beyond 64-bit/double range (2^64, 1e400) that are still valid JSON.
  boost::json::parse_options options;
  options.max_depth = max_json_depth;
  boost::system::error_code boost_error;
  boost::json::parse(text, boost_error, {}, options);
  return !boost_error;
}

}  // namespace cablecast::protocol
