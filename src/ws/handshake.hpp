#pragma once
// The HTTP/1.1 -> WebSocket upgrade, as pure functions over a parsed request, so every rule
// (method, headers, version, key, origin, sub-protocol) is unit-tested without a socket.
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cablecast::ws {

using Request = boost::beast::http::request<boost::beast::http::empty_body>;

struct HandshakeOptions {
  // Origins accepted besides the request's own host. Cross-site WebSocket hijacking is a page on
  // another site opening a socket with the visitor's cookies, so a browser request (it carries
  // Origin) is accepted only when its origin names the host it was sent to (same-origin, as
  // Rails' allow_same_origin_as_host) or matches one of these patterns. A pattern is compared
  // with the whole Origin header value; `*` matches any run of characters
  // (e.g. "https://*.example.com", "http://localhost:*"). A request without Origin is not a
  // browser's: accepted while the list is empty, refused once it is set (as Rails). The single
  // pattern "*" accepts every request, Origin or not.
  std::vector<std::string> allowed_origins;
  // Sub-protocols the server speaks, in preference order is irrelevant: the FIRST one the
  // client offers that is in this list wins (websocket-driver / Rails behaviour).
  std::vector<std::string> subprotocols = {"actioncable-v1-json", "actioncable-v1-ext-json",
                                           "actioncable-unsupported"};
};

// What to answer a request for the WebSocket endpoint.
// Why an upgrade was refused, for metrics (cablecast_handshakes_rejected_total's reason).
enum class UpgradeRefusal : std::uint8_t { none, not_websocket, version, bad_key, origin };

struct UpgradeDecision {
  bool accepted = false;  // true: `response` is the 101 answer; switch to frames after it
  UpgradeRefusal refusal = UpgradeRefusal::none;
  unsigned status = 0;      // 101, or the HTTP error status (400, 404, 426)
  std::string response;     // complete serialized HTTP response (status line, headers, body)
  std::string subprotocol;  // the selected sub-protocol, empty when none
  std::string log_reason;   // why it was refused, for one log line (empty when accepted)
};

// Validates an upgrade request and builds the answer:
// - not GET, or not a WebSocket upgrade (Connection must list "upgrade",
//   Upgrade must be "websocket", case-insensitive): 404 "Page not found" as Rails answers
//   plain HTTP on its mount path;
// - Sec-WebSocket-Version other than 13: 426 with "Sec-WebSocket-Version: 13";
// - Sec-WebSocket-Key missing or not 16 bytes of base64: 400;
// - Origin not allowed (HandshakeOptions::allowed_origins): 404 "Page not found" (text/plain;
// charset=utf-8), as Rails does;
// - otherwise 101 with Sec-WebSocket-Accept and, when one matched, Sec-WebSocket-Protocol.
//   No match (or no header) still upgrades, without the header, as Rails does.
UpgradeDecision decide_upgrade(const Request& request, const HandshakeOptions& options);

// base64(SHA-1(key + RFC 6455 GUID)).
std::string compute_accept_key(std::string_view client_key);

// The first client-offered protocol (comma separated, whitespace trimmed) found in `supported`.
std::string select_subprotocol(std::string_view offered, const std::vector<std::string>& supported);

// Origin check as described in HandshakeOptions: `origin` is the Origin header value (empty when
// absent), `host` the Host header value of the same request.
bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& patterns);

// Whether `origin` ("scheme://host[:port]") names the same host and port as the Host header
// `host` ("host[:port]", IPv6 in brackets), case-insensitively. Ports default by the origin's
// scheme (http 80, https 443); any other scheme, or a malformed value, is not same-origin.
bool same_origin_as_host(std::string_view origin, std::string_view host);

// A complete simple HTTP response with Content-Length and `Connection: close`.
std::string http_response(unsigned status, std::string_view content_type, std::string_view body,
                          std::string_view extra_headers = {});

}  // namespace cablecast::ws
