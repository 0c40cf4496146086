#include "rpc/http_codec.hpp"

#include <boost/json.hpp>
#include <cstdint>
#include <limits>

namespace cablecast::rpc::http {
namespace {

namespace json = boost::json;

// ---- encoding: field order as in rpc.proto, empty fields left out (Go's omitempty) ----------

// Length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, surrogates or values past
// U+10FFFF) starting at text[i], or 0 when the byte there does not start one.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) low = 0xA0;   // overlong
    if (c == 0xED) high = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) low = 0x90;   // overlong
    if (c == 0xF4) high = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// Request text is mostly the client's (headers, cookies): JSON must be UTF-8, so each byte that
// is not part of a well-formed sequence becomes U+FFFD, as Go's encoding/json does for AnyCable.
// A strict parser on the backend (Ruby's JSON) would otherwise refuse the whole request.
json::string utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t n = utf8_sequence(text, i);
    if (n == 0) break;
    i += n;
  }
  if (i == text.size()) return json::string(text);
  std::string out(text.substr(0, i));
  while (i < text.size()) {
    std::size_t n = utf8_sequence(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return json::string(out);
}

void put_string(json::object& out, std::string_view key, const std::string& value) {
  if (!value.empty()) out.emplace(key, utf8(value));
}

void put_strings(json::object& out, std::string_view key, const std::vector<std::string>& values) {
  if (values.empty()) return;
  json::array array;
  array.reserve(values.size());
  for (const auto& v : values) array.emplace_back(utf8(v));
  out.emplace(key, std::move(array));
}

void put_map(json::object& out, std::string_view key, const StringMap& map) {
  if (map.empty()) return;
  json::object object;
  object.reserve(map.size());
  for (const auto& [k, v] : map) object.emplace(utf8(k), utf8(v));
  out.emplace(key, std::move(object));
}

json::object env_object(const Env& env) {
  json::object out;
  put_string(out, "url", env.url);
  put_map(out, "headers", env.headers);
  put_map(out, "cstate", env.cstate);
  put_map(out, "istate", env.istate);
  return out;
}

// ---- decoding ---------------------------------------------------------------------------------

// Reads the fields of one JSON object into a message, remembering the first problem.
class Reader {
 public:
  Reader(const json::object& object, std::string prefix, std::string* why)
      : object_(object), prefix_(std::move(prefix)), why_(why) {}

  bool failed() const { return failed_; }

  void string(std::string_view key, std::string& out) {
    const json::value* v = field(key);
    if (!v) return;
    if (const auto* s = v->if_string()) {
      out.assign(s->data(), s->size());
    } else {
      fail(key, "is not a string");
    }
  }

  void boolean(std::string_view key, bool& out) {
    const json::value* v = field(key);
    if (!v) return;
    if (const bool* b = v->if_bool()) {
      out = *b;
    } else {
      fail(key, "is not a boolean");
    }
  }

  // Elements must be strings: a null transmission or stream name is a broken reply, not "".
  void strings(std::string_view key, std::vector<std::string>& out) {
    const json::value* v = field(key);
    if (!v) return;
    const auto* array = v->if_array();
    if (!array) return fail(key, "is not an array of strings");
    out.clear();
    out.reserve(array->size());
    for (const auto& element : *array) {
      const auto* s = element.if_string();
      if (!s) return fail(key, "is not an array of strings");
      out.emplace_back(s->data(), s->size());
    }
  }

  // A null value reads as "" (Go does the same), which the state merge treats as "delete".
  void string_map(std::string_view key, StringMap& out) {
    const json::value* v = field(key);
    if (!v) return;
    const auto* object = v->if_object();
    if (!object) return fail(key, "is not an object of strings");
    out.clear();
    for (const auto& [k, element] : *object) {
      if (element.is_null()) {
        out[std::string(k)] = std::string();
      } else if (const auto* s = element.if_string()) {
        out[std::string(k)] = std::string(s->data(), s->size());
      } else {
        return fail(key, "is not an object of strings");
      }
    }
  }

  void status(Status& out) {
    const json::value* v = field("status");
    if (!v) return;
    std::int64_t number = -1;
    if (const auto* i = v->if_int64()) {
      number = *i;
    } else if (const auto* u = v->if_uint64()) {
      number = *u <= 2 ? static_cast<std::int64_t>(*u) : -1;
    } else if (const auto* s = v->if_string()) {
      if (*s == "ERROR") number = 0;
      if (*s == "SUCCESS") number = 1;
      if (*s == "FAILURE") number = 2;
    }
    if (number < 0 || number > 2)
      return fail("status", "is not 0, 1, 2, ERROR, SUCCESS or FAILURE");
    out = static_cast<Status>(number);
  }

  void uint32(std::string_view key, std::uint32_t& out) {
    const json::value* v = field(key);
    if (!v) return;
    std::uint64_t number = 0;
    bool ok = false;
    if (const auto* i = v->if_int64()) {
      ok = *i >= 0;
      number = static_cast<std::uint64_t>(*i);
    } else if (const auto* u = v->if_uint64()) {
      ok = true;
      number = *u;
    }
    if (!ok || number > std::numeric_limits<std::uint32_t>::max()) {
      return fail(key, "is not an unsigned 32-bit integer");
    }
    out = static_cast<std::uint32_t>(number);
  }

  // The object under `key`, or nullptr when absent or null (then `failed()` tells a wrong type).
  const json::object* object(std::string_view key) {
    const json::value* v = field(key);
    if (!v) return nullptr;
    if (const auto* o = v->if_object()) return o;
    fail(key, "is not an object");
    return nullptr;
  }

  void fail(std::string_view key, std::string_view problem) {
    if (failed_) return;
    failed_ = true;
    if (why_) *why_ = "`" + prefix_ + std::string(key) + "` " + std::string(problem);
  }

  // A Reader for a nested object: it explains its own problem unless this one already did.
  Reader nested(const json::object& object, std::string_view key) const {
    return Reader(object, prefix_ + std::string(key) + ".", failed_ ? nullptr : why_);
  }
  void fail_nested() { failed_ = true; }

 private:
  const json::value* field(std::string_view key) const {
    const json::value* v = object_.if_contains(key);
    return v && !v->is_null() ? v : nullptr;
  }

  const json::object& object_;
  std::string prefix_;
  std::string* why_;
  bool failed_ = false;
};

void read_env(Reader& reader, EnvResponse& out) {
  const json::object* env = reader.object("env");
  if (!env) return;
  Reader inner = reader.nested(*env, "env");
  inner.string_map("cstate", out.cstate);
  inner.string_map("istate", out.istate);
  if (inner.failed()) reader.fail_nested();
}

// Parses `body` and hands its top-level object to `fill`, which reads the fields.
template <class Response, class Fill>
boost::system::result<Response> decode_with(std::string_view body, const DecodeOptions& options,
                                            std::string* why, Fill fill) {
  auto explain = [why](const char* text) {
    if (why) *why = text;
  };
  if (body.size() > options.max_bytes) {
    explain("the body is over the size limit");
    return Error::reply_too_large;
  }
  // Parsed into a monotonic arena: the tree is read once and thrown away.
  json::monotonic_resource arena;
  boost::system::error_code ec;
  json::value root = json::parse(body, ec, &arena);
  if (ec) {
    if (why) *why = "the body is not JSON (" + ec.message() + ")";
    return Error::malformed_reply;
  }
  const auto* object = root.if_object();
  if (!object) {
    explain("the body is not a JSON object");
    return Error::bad_reply;
  }
  Response response;
  Reader reader(*object, "", why);
  fill(reader, response);
  if (reader.failed()) return Error::bad_reply;
  return response;
}

}  // namespace

std::string encode(const ConnectionRequest& request) {
  json::object out;
  out.emplace("env", env_object(request.env));
  return json::serialize(out);
}

std::string encode(const CommandMessage& request) {
  json::object out;
  put_string(out, "command", request.command);
  put_string(out, "identifier", request.identifier);
  put_string(out, "connection_identifiers", request.connection_identifiers);
  put_string(out, "data", request.data);
  out.emplace("env", env_object(request.env));
  return json::serialize(out);
}

std::string encode(const DisconnectRequest& request) {
  json::object out;
  put_string(out, "identifiers", request.identifiers);
  put_strings(out, "subscriptions", request.subscriptions);
  out.emplace("env", env_object(request.env));
  return json::serialize(out);
}

template <>
boost::system::result<ConnectionResponse> decode<ConnectionResponse>(std::string_view body,
                                                                     const DecodeOptions& options,
                                                                     std::string* why) {
  return decode_with<ConnectionResponse>(body, options, why,
                                         [](Reader& r, ConnectionResponse& out) {
                                           r.status(out.status);
                                           r.string("identifiers", out.identifiers);
                                           r.strings("transmissions", out.transmissions);
                                           r.string("error_msg", out.error_msg);
                                           read_env(r, out.env);
                                         });
}

template <>
boost::system::result<CommandResponse> decode<CommandResponse>(std::string_view body,
                                                               const DecodeOptions& options,
                                                               std::string* why) {
  return decode_with<CommandResponse>(body, options, why, [](Reader& r, CommandResponse& out) {
    r.status(out.status);
    r.boolean("disconnect", out.disconnect);
    r.boolean("stop_streams", out.stop_streams);
    r.strings("streams", out.streams);
    r.strings("transmissions", out.transmissions);
    r.string("error_msg", out.error_msg);
    read_env(r, out.env);
    r.strings("stopped_streams", out.stopped_streams);
    if (const json::object* presence = r.object("presence")) {
      Reader inner = r.nested(*presence, "presence");
      PresenceResponse value;
      inner.string("type", value.type);
      inner.string("id", value.id);
      inner.string("info", value.info);
      inner.uint32("ttl", value.ttl);
      if (inner.failed()) return r.fail_nested();
      out.presence = std::move(value);
    }
  });
}

template <>
boost::system::result<DisconnectResponse> decode<DisconnectResponse>(std::string_view body,
                                                                     const DecodeOptions& options,
                                                                     std::string* why) {
  return decode_with<DisconnectResponse>(body, options, why,
                                         [](Reader& r, DisconnectResponse& out) {
                                           r.status(out.status);
                                           r.string("error_msg", out.error_msg);
                                         });
}

}  // namespace cablecast::rpc::http
