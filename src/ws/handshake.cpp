#include "ws/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <cctype>

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

bool origin_allowed(std::string_view origin, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return true;
  if (origin.empty()) return false;
  // Scheme and host are case-insensitive; lowercasing the whole value is simpler and safe
  // because an Origin carries no path.
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
  if (!origin_allowed(trim(request[http::field::origin]), options.allowed_origins)) {
    return refuse(UpgradeRefusal::origin, 404, not_found_response(), "origin not allowed");
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
