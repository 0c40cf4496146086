// Parses arbitrary bytes as an HTTP request (as the server does, 8 KiB header limit) and, when
// a whole request parses, checks that the upgrade decision is well-formed under two option
// sets. Also throws the bytes at the origin glob matcher and the sub-protocol selector.
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/assert.hpp"
#include "ws/handshake.hpp"

namespace {

namespace http = boost::beast::http;
using cablecast::ws::HandshakeOptions;
using cablecast::ws::UpgradeDecision;

bool starts_with_status_line(const std::string& response, unsigned status) {
  return response.starts_with("HTTP/1.1 " + std::to_string(status) + " ");
}

void check(const cablecast::ws::Request& request, const HandshakeOptions& options) {
  const UpgradeDecision decision = cablecast::ws::decide_upgrade(request, options);
  CABLE_ASSERT(decision.status == 101 || decision.status == 400 || decision.status == 404 ||
               decision.status == 405 || decision.status == 426);
  CABLE_ASSERT(decision.accepted == (decision.status == 101));
  CABLE_ASSERT(starts_with_status_line(decision.response, decision.status));
  // Only one blank line (end of headers): nothing from the client leaks into a header.
  const auto end = decision.response.find("\r\n\r\n");
  CABLE_ASSERT(end != std::string::npos);
  if (decision.accepted) {
    CABLE_ASSERT(end + 4 == decision.response.size());
    CABLE_ASSERT(decision.log_reason.empty());
    CABLE_ASSERT(decision.response.find("Sec-WebSocket-Accept: ") != std::string::npos);
    if (!decision.subprotocol.empty()) {
      CABLE_ASSERT(std::find(options.subprotocols.begin(), options.subprotocols.end(),
                             decision.subprotocol) != options.subprotocols.end());
    }
  } else {
    CABLE_ASSERT(!decision.log_reason.empty());
    CABLE_ASSERT(decision.subprotocol.empty());
    CABLE_ASSERT(decision.response.find("Connection: close\r\n") < end);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  http::request_parser<http::empty_body> parser;
  parser.header_limit(8 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (!ec && parser.is_done()) {
    check(parser.get(), HandshakeOptions{});
    HandshakeOptions strict;
    strict.allowed_origins = {"https://*.example.com", "http://localhost:*", "*://x*y*z"};
    strict.subprotocols = {"actioncable-v1-json"};
    check(parser.get(), strict);
  }

  // The pure helpers on raw input: first line is a pattern / supported name, the rest the
  // value. Must terminate quickly (no exponential backtracking) and stay consistent.
  const auto newline = bytes.find('\n');
  if (newline != std::string_view::npos) {
    const std::string pattern(bytes.substr(0, newline));
    const std::string_view value = bytes.substr(newline + 1);
    // No Host: only the pattern can allow it (same-origin needs a host to compare with).
    const bool allowed = cablecast::ws::origin_allowed(value, {}, {pattern});
    if (pattern == "*") CABLE_ASSERT(allowed);
    if (pattern.find('*') == std::string::npos && allowed) {
      CABLE_ASSERT(pattern.size() == value.size());
    }
    // The first line as a Host header: a same-origin request is allowed with no pattern at all.
    if (cablecast::ws::same_origin_as_host(value, pattern)) {
      CABLE_ASSERT(cablecast::ws::origin_allowed(value, pattern, {}));
    }
    const std::string selected = cablecast::ws::select_subprotocol(value, {pattern});
    CABLE_ASSERT(selected.empty() || selected == pattern);
  }
  return 0;
}
