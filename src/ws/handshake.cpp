#include "ws/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <cctype>
#include <charconv>
#include <optional>

#include "core/log.hpp"

namespace cablecast::ws {
namespace {

namespace http = boost::beast::http;

// RFC 6455 1.3: appended to the client key before hashing.
constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

char to_lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_lower(x) == to_lower(y);
         });
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

// Calls `visit` with every trimmed, non-empty element of a comma-separated header value.
// Returns true as soon as `visit` does.
template <typename Visit>
bool any_list_element(std::string_view list, Visit visit) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view element = trim(list.substr(0, comma));
    if (!element.empty() && visit(element)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// True when any instance of header `name` lists `token` (case-insensitive). Browsers send
// "Connection: keep-alive, Upgrade" (Firefox), proxies may split it over several fields.
bool header_lists_token(const Request& request, http::field name, std::string_view token) {
  const auto [begin, end] = request.equal_range(name);
  return std::any_of(begin, end, [token](const auto& field) {
    return any_list_element(field.value(),
                            [token](std::string_view element) { return iequals(element, token); });
  });
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// RFC 6455 4.1: the key is 16 random bytes, base64-encoded. Padded base64 of exactly 16 bytes
// is always 22 alphabet characters followed by "==", so the shape alone decides it.
bool is_valid_key(std::string_view key) {
  return key.size() == 24 && key.substr(22) == "==" &&
         std::all_of(key.begin(), key.begin() + 22, is_base64_char);
}

// Rails answers anything on its mount path that is not an acceptable WebSocket request with
// this 404, so clients see the same thing from us.
std::string not_found_response() {
  return http_response(404, "text/plain; charset=utf-8", "Page not found");
}

UpgradeDecision refuse(UpgradeRefusal refusal, unsigned status, std::string response,
                       std::string log_reason) {
  UpgradeDecision decision;
  decision.refusal = refusal;
  decision.status = status;
  decision.response = std::move(response);
  decision.log_reason = std::move(log_reason);
  return decision;
}

// Glob match where '*' matches any run of characters. Greedy with a single backtrack point, so
// it is O(n*m) at worst rather than exponential on patterns with many stars.
bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;  // position of the last '*' seen in pattern
  std::size_t star_text = 0;                  // text position that '*' is currently matched to
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// The host and port of "host[:port]" (an IPv6 host keeps its brackets, so "[::1]:80" and
// "[::1]" compare as text). Nothing when malformed: no host, a port that is not 1-65535 digits,
// or anything after the port.
struct Authority {
  std::string_view host;
  std::optional<unsigned> port;
};

std::optional<Authority> parse_authority(std::string_view text) {
  Authority authority;
  std::string_view rest;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    authority.host = text.substr(0, close + 1);
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    authority.host = text.substr(0, colon);
    if (colon != std::string_view::npos) rest = text.substr(colon);
  }
  if (authority.host.empty() || authority.host.find('/') != std::string_view::npos) {
    return std::nullopt;
  }
  if (rest.empty()) return authority;
  if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return std::nullopt;
  rest.remove_prefix(1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), port);
  if (error != std::errc{} || end != rest.data() + rest.size() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  authority.port = port;
  return authority;
}

// The port a browser leaves out of an origin of this scheme.
std::optional<unsigned> default_port(std::string_view scheme) {
  if (scheme == "http") return 80;
  if (scheme == "https") return 443;
  return std::nullopt;
}

}  // namespace

std::string compute_accept_key(std::string_view client_key) {
  std::string input(client_key);
  input.append(kWebSocketGuid);
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  // EVP_EncodeBlock writes 4 characters per 3 bytes plus a terminating NUL.
  std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> encoded{};
  const int length = EVP_EncodeBlock(encoded.data(), digest.data(), SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded.data()),
                     static_cast<std::size_t>(length));
}

std::string select_subprotocol(std::string_view offered,
                               const std::vector<std::string>& supported) {
  std::string selected;
  any_list_element(offered, [&](std::string_view candidate) {
    // Exact comparison: sub-protocol names are case-sensitive tokens (RFC 6455 11.3.4).
    if (std::find(supported.begin(), supported.end(), candidate) == supported.end()) {
      return false;
    }
    selected = candidate;
    return true;
  });
  return selected;
}

bool same_origin_as_host(std::string_view origin, std::string_view host) {
  // Scheme and host are case-insensitive; a serialized origin has no path, user or query.
  const std::string lowered_origin = lowercase(origin);
  const std::string lowered_host = lowercase(trim(host));
  const std::string_view text = lowered_origin;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::optional<unsigned> implied_port = default_port(text.substr(0, scheme_end));
  if (!implied_port) return false;  // "null", file://, extensions: never a site's own page
  const auto from_origin = parse_authority(text.substr(scheme_end + 3));
  const auto from_host = parse_authority(lowered_host);
  if (!from_origin || !from_host) return false;
  // The Host header carries no scheme: the origin's tells which port an absent one means, so
  // https://example.com matches "Host: example.com" also behind a proxy that terminates TLS.
  return from_origin->host == from_host->host &&
         from_origin->port.value_or(*implied_port) == from_host->port.value_or(*implied_port);
}

bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& patterns) {
  if (std::find(patterns.begin(), patterns.end(), "*") != patterns.end()) return true;
  // No Origin: not a browser, so not a hijack; once origins are listed, refused as Rails does.
  if (origin.empty()) return patterns.empty();
  if (same_origin_as_host(origin, host)) return true;
  // Lowercasing the whole value is safe because an Origin carries no path.
  const std::string lowered = lowercase(origin);
  return std::any_of(patterns.begin(), patterns.end(), [&lowered](const std::string& pattern) {
    return glob_match(lowercase(pattern), lowered);
  });
}

std::string http_response(unsigned status, std::string_view content_type, std::string_view body,
                          std::string_view extra_headers) {
  const std::string_view reason = http::obsolete_reason(http::int_to_status(status));
  std::string out;
  out.reserve(128 + content_type.size() + body.size() + extra_headers.size());
  out.append("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(reason).append("\r\n");
  if (!content_type.empty()) out.append("Content-Type: ").append(content_type).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("Connection: close\r\n");
  // `extra_headers` is one or more "Name: value" lines; the last CRLF is optional.
  if (!extra_headers.empty()) {
    out.append(extra_headers);
    if (!extra_headers.ends_with("\r\n")) out.append("\r\n");
  }
  out.append("\r\n");
  out.append(body);
  return out;
}

UpgradeDecision decide_upgrade(const Request& request, const HandshakeOptions& options) {
  if (request.method() != http::verb::get) {
    // Rails answers every request on its mount path that is not a GET upgrade with this 404.
    return refuse(UpgradeRefusal::not_websocket, 404, not_found_response(), "method is not GET");
  }
  if (!header_lists_token(request, http::field::connection, "upgrade") ||
      !header_lists_token(request, http::field::upgrade, "websocket")) {
    return refuse(UpgradeRefusal::not_websocket, 404, not_found_response(),
                  "not a WebSocket upgrade request");
  }
  if (trim(request[http::field::sec_websocket_version]) != "13") {
    return refuse(
        UpgradeRefusal::version, 426,
        http_response(426, "text/plain", "Upgrade Required", "Sec-WebSocket-Version: 13\r\n"),
        "unsupported Sec-WebSocket-Version");
  }
  // More than one key makes the accept value ambiguous; refuse it like a malformed one.
  const auto keys = request.equal_range(http::field::sec_websocket_key);
  const std::string_view key = trim(request[http::field::sec_websocket_key]);
  if (std::distance(keys.first, keys.second) != 1 || !is_valid_key(key)) {
    return refuse(UpgradeRefusal::bad_key, 400, http_response(400, "text/plain", "Bad Request"),
                  "missing or invalid Sec-WebSocket-Key");
  }
  const std::string_view origin = trim(request[http::field::origin]);
  const std::string_view host = request[http::field::host];
  if (!origin_allowed(origin, host, options.allowed_origins)) {
    return refuse(UpgradeRefusal::origin, 404, not_found_response(),
                  origin.empty() ? std::string("no Origin header (--allowed-origins is set)")
                                 : "origin '" + log::clip(origin, 200) + "' is not the Host's ('" +
                                       log::clip(host, 200) + "') nor in --allowed-origins");
  }

  // The offer may be split over several header fields; together they form one list.
  std::string offered;
  for (const auto& field : request) {
    if (field.name() != http::field::sec_websocket_protocol) continue;
    if (!offered.empty()) offered.push_back(',');
    offered.append(field.value());
  }

  UpgradeDecision decision;
  decision.accepted = true;
  decision.status = 101;
  decision.subprotocol = select_subprotocol(offered, options.subprotocols);
  decision.response =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ";
  decision.response.append(compute_accept_key(key)).append("\r\n");
  if (!decision.subprotocol.empty()) {
    decision.response.append("Sec-WebSocket-Protocol: ")
        .append(decision.subprotocol)
        .append("\r\n");
  }
  decision.response.append("\r\n");
  return decision;
}

}  // namespace cablecast::ws
