#include "ws/handshake.hpp"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <string>

namespace cablecast::ws {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
// The value printed in RFC 6455 section 1.3 for its sample key.
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// Parses request text the way the server does, so tests exercise real header handling.
Request parse(const std::string& text) {
  http::request_parser<http::empty_body> parser;
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(text), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  return parser.release();
}

// A browser-like upgrade request; `extra` adds or repeats header lines.
Request upgrade_request(const std::string& extra = "", const std::string& connection = "Upgrade",
                        const std::string& key = std::string(kKey)) {
  return parse("GET /cable HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: " +
               connection + "\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n" +
               extra + "\r\n");
}

TEST(Handshake, ComputesTheRfc6455ExampleAcceptKey) {
  EXPECT_EQ(compute_accept_key(kKey), kAccept);
}

TEST(Handshake, AcceptsAValidUpgradeWithTheExactResponse) {
  const UpgradeDecision decision = decide_upgrade(upgrade_request(), HandshakeOptions{});
  EXPECT_TRUE(decision.accepted);
  EXPECT_EQ(decision.status, 101u);
  EXPECT_EQ(decision.subprotocol, "");
  EXPECT_EQ(decision.log_reason, "");
  EXPECT_EQ(decision.response,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

TEST(Handshake, SelectsActionCableProtocolAndEchoesIt) {
  const UpgradeDecision decision = decide_upgrade(
      upgrade_request("Sec-WebSocket-Protocol: actioncable-v1-json, actioncable-unsupported\r\n"),
      HandshakeOptions{});
  ASSERT_TRUE(decision.accepted);
  EXPECT_EQ(decision.subprotocol, "actioncable-v1-json");
  EXPECT_EQ(decision.response,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: actioncable-v1-json\r\n\r\n");
}

TEST(Handshake, SelectsTheFirstOfferedProtocolAcrossRepeatedHeaders) {
  const UpgradeDecision decision =
      decide_upgrade(upgrade_request("Sec-WebSocket-Protocol: anycable-token.xyz\r\n"
                                     "Sec-WebSocket-Protocol: actioncable-unsupported,"
                                     "actioncable-v1-json\r\n"),
                     HandshakeOptions{});
  ASSERT_TRUE(decision.accepted);
  EXPECT_EQ(decision.subprotocol, "actioncable-unsupported");
}

TEST(Handshake, UpgradesWithoutAProtocolHeaderWhenNoneMatches) {
  const UpgradeDecision decision =
      decide_upgrade(upgrade_request("Sec-WebSocket-Protocol: anycable-token.xyz, graphql-ws\r\n"),
                     HandshakeOptions{});
  ASSERT_TRUE(decision.accepted);
  EXPECT_EQ(decision.subprotocol, "");
  EXPECT_EQ(decision.response.find("Sec-WebSocket-Protocol"), std::string::npos);
  EXPECT_EQ(decision.response.find("anycable-token"), std::string::npos);
}

TEST(Handshake, AcceptsAConnectionHeaderListingUpgradeAmongOtherTokens) {
  for (const std::string connection :
       {"keep-alive, Upgrade", "upgrade", "Keep-Alive,UPGRADE", "close ,  Upgrade  "}) {
    EXPECT_TRUE(decide_upgrade(upgrade_request("", connection), HandshakeOptions{}).accepted)
        << connection;
  }
}

TEST(Handshake, MatchesUpgradeHeaderCaseInsensitively) {
  const Request request = parse(
      "GET / HTTP/1.1\r\nHost: h\r\nUPGRADE: WebSocket\r\nconnection: upgrade\r\n"
      "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n");
  const UpgradeDecision decision = decide_upgrade(request, HandshakeOptions{});
  EXPECT_TRUE(decision.accepted);
  EXPECT_NE(decision.response.find(kAccept), std::string::npos);
}

TEST(Handshake, RefusesANonGetRequestWithTheRailsNotFoundPage) {
  const Request request = parse(
      "POST /cable HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  const UpgradeDecision decision = decide_upgrade(request, HandshakeOptions{});
  EXPECT_FALSE(decision.accepted);
  EXPECT_EQ(decision.status, 404u);
  EXPECT_TRUE(decision.response.starts_with("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_NE(decision.response.find("Page not found"), std::string::npos);
  EXPECT_FALSE(decision.log_reason.empty());
}

TEST(Handshake, AnswersPlainHttpWithTheRailsNotFoundPage) {
  const Request request = parse("GET /cable HTTP/1.1\r\nHost: h\r\n\r\n");
  const UpgradeDecision decision = decide_upgrade(request, HandshakeOptions{});
  EXPECT_FALSE(decision.accepted);
  EXPECT_EQ(decision.status, 404u);
  EXPECT_EQ(decision.response,
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 14\r\nConnection: close\r\n\r\nPage not found");
}

TEST(Handshake, RefusesAnUpgradeToAnotherProtocolWith404) {
  const Request request = parse(
      "GET /cable HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_EQ(decide_upgrade(request, HandshakeOptions{}).status, 404u);
}

TEST(Handshake, RefusesAConnectionHeaderWithoutUpgradeWith404) {
  EXPECT_EQ(decide_upgrade(upgrade_request("", "keep-alive"), HandshakeOptions{}).status, 404u);
  // "upgrade" must be a whole token, not a substring.
  EXPECT_EQ(decide_upgrade(upgrade_request("", "upgraded"), HandshakeOptions{}).status, 404u);
}

TEST(Handshake, RefusesAnotherWebSocketVersionWith426) {
  const Request request = parse(
      "GET /cable HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
  const UpgradeDecision decision = decide_upgrade(request, HandshakeOptions{});
  EXPECT_EQ(decision.status, 426u);
  EXPECT_TRUE(decision.response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
  EXPECT_NE(decision.response.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
}

TEST(Handshake, RefusesAMissingWebSocketVersionWith426) {
  const Request request = parse(
      "GET /cable HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  EXPECT_EQ(decide_upgrade(request, HandshakeOptions{}).status, 426u);
}

TEST(Handshake, RefusesAMissingKeyWith400) {
  const Request request = parse(
      "GET /cable HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n");
  const UpgradeDecision decision = decide_upgrade(request, HandshakeOptions{});
  EXPECT_EQ(decision.status, 400u);
  EXPECT_TRUE(decision.response.starts_with("HTTP/1.1 400 Bad Request\r\n"));
}

TEST(Handshake, RefusesAKeyThatIsNotSixteenBytesOfBase64With400) {
  for (const std::string key : {"", "dGhlIHNhbXBsZSBub25jZQ",  // unpadded
                                "dGhlIHNhbXBsZSBub25jZQ=",     // half padded
                                "dGhlIHNhbXBsZSBub25j",        // 15 bytes
                                "dGhlIHNhbXBsZSBub25jZSE=",    // 17 bytes
                                "dGhlIHNhbXBsZSBub25j*Q==",    // not base64
                                "dGhlIHNhbXBsZSBub25jZQ==AAAA"}) {
    EXPECT_EQ(decide_upgrade(upgrade_request("", "Upgrade", key), HandshakeOptions{}).status, 400u)
        << key;
  }
}

TEST(Handshake, RefusesTwoKeysWith400) {
  EXPECT_EQ(decide_upgrade(upgrade_request("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"),
                           HandshakeOptions{})
                .status,
            400u);
}

TEST(Handshake, AcceptsTheHostsOwnOriginAndARequestWithoutOriginByDefault) {
  EXPECT_TRUE(decide_upgrade(upgrade_request("Origin: http://example.com\r\n"), HandshakeOptions{})
                  .accepted);
  EXPECT_TRUE(decide_upgrade(upgrade_request(), HandshakeOptions{}).accepted);
}

TEST(Handshake, RefusesAnotherSitesOriginByDefaultWithTheNotFoundPage) {
  const UpgradeDecision refused =
      decide_upgrade(upgrade_request("Origin: http://evil.example\r\n"), HandshakeOptions{});
  EXPECT_FALSE(refused.accepted);
  EXPECT_EQ(refused.status, 404u);
  EXPECT_NE(refused.response.find("text/plain; charset=utf-8"), std::string::npos);
  EXPECT_TRUE(refused.response.ends_with("\r\n\r\nPage not found"));
  EXPECT_NE(refused.log_reason.find("http://evil.example"), std::string::npos);
}

TEST(Handshake, ClipsTheOriginInTheRefusalReason) {
  const UpgradeDecision refused =
      decide_upgrade(upgrade_request("Origin: http://" + std::string(5000, 'a') + ".test\r\n"),
                     HandshakeOptions{});
  EXPECT_EQ(refused.status, 404u);
  EXPECT_LT(refused.log_reason.size(), 600u);
}

TEST(Handshake, RefusesADisallowedOriginWithTheNotFoundPage) {
  HandshakeOptions options;
  options.allowed_origins = {"https://*.example.com"};
  EXPECT_TRUE(
      decide_upgrade(upgrade_request("Origin: https://app.example.com\r\n"), options).accepted);
  const UpgradeDecision refused =
      decide_upgrade(upgrade_request("Origin: https://evil.test\r\n"), options);
  EXPECT_EQ(refused.status, 404u);
  EXPECT_NE(refused.response.find("text/plain; charset=utf-8"), std::string::npos);
  EXPECT_TRUE(refused.response.ends_with("\r\n\r\nPage not found"));
  EXPECT_FALSE(refused.log_reason.empty());
}

TEST(Handshake, StillAcceptsTheHostsOwnOriginWhenPatternsAreConfigured) {
  HandshakeOptions options;
  options.allowed_origins = {"https://*.other.test"};
  EXPECT_TRUE(decide_upgrade(upgrade_request("Origin: https://example.com\r\n"), options).accepted);
}

TEST(Handshake, RefusesAMissingOriginWhenPatternsAreConfigured) {
  HandshakeOptions options;
  options.allowed_origins = {"https://*.example.com"};
  const UpgradeDecision refused = decide_upgrade(upgrade_request(), options);
  EXPECT_EQ(refused.status, 404u);
  EXPECT_NE(refused.log_reason.find("no Origin"), std::string::npos);
}

TEST(Handshake, AcceptsEveryRequestWithTheStarPattern) {
  HandshakeOptions options;
  options.allowed_origins = {"*"};
  EXPECT_TRUE(decide_upgrade(upgrade_request("Origin: http://evil.example\r\n"), options).accepted);
  EXPECT_TRUE(decide_upgrade(upgrade_request("Origin: null\r\n"), options).accepted);
  EXPECT_TRUE(decide_upgrade(upgrade_request(), options).accepted);
}

TEST(Handshake, MatchesOriginPatternsAsGlobs) {
  const std::vector<std::string> patterns = {"https://*.example.com", "http://localhost:*"};
  const std::string_view host = "cable.test";
  EXPECT_TRUE(origin_allowed("https://app.example.com", host, patterns));
  EXPECT_TRUE(origin_allowed("https://a.b.example.com", host, patterns));
  EXPECT_TRUE(origin_allowed("http://localhost:3000", host, patterns));
  EXPECT_FALSE(origin_allowed("https://example.com", host, patterns));
  EXPECT_FALSE(origin_allowed("https://evilexample.com", host, patterns));
  EXPECT_FALSE(origin_allowed("http://app.example.com", host, patterns));
  EXPECT_FALSE(origin_allowed("https://app.example.com.evil.test", host, patterns));
  EXPECT_FALSE(origin_allowed("http://localhost.evil.test", host, patterns));
  EXPECT_FALSE(origin_allowed("", host, patterns));
}

TEST(Handshake, MatchesPatternsWithSeveralStars) {
  EXPECT_TRUE(origin_allowed("https://a-b.c-d.test", "h", {"https://*-*.*-*.test"}));
  EXPECT_FALSE(origin_allowed("https://ab.c-d.test", "h", {"https://*-*.*-*.test"}));
  EXPECT_TRUE(origin_allowed("x", "h", {"**x**"}));
  // Many stars against a long non-matching value must still be quick.
  EXPECT_FALSE(origin_allowed(std::string(5000, 'a'), "h", {"*a*a*a*a*a*a*a*a*b"}));
}

TEST(Handshake, ComparesOriginPatternsCaseInsensitively) {
  EXPECT_TRUE(origin_allowed("HTTPS://App.Example.COM", "h", {"https://*.example.com"}));
  EXPECT_TRUE(origin_allowed("https://app.example.com", "h", {"HTTPS://APP.EXAMPLE.COM"}));
}

TEST(Handshake, AllowsOnlyTheHostsOwnOriginWithAnEmptyPatternList) {
  EXPECT_TRUE(origin_allowed("https://cable.test", "cable.test", {}));
  EXPECT_FALSE(origin_allowed("https://anything.test", "cable.test", {}));
  EXPECT_TRUE(origin_allowed("", "cable.test", {}));
}

TEST(SameOrigin, HoldsForTheSameHostAndPort) {
  EXPECT_TRUE(same_origin_as_host("http://example.com:8080", "example.com:8080"));
  EXPECT_TRUE(same_origin_as_host("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(same_origin_as_host("http://example.com:8081", "example.com:8080"));
  EXPECT_FALSE(same_origin_as_host("http://example.com:8080", "example.com"));
  EXPECT_FALSE(same_origin_as_host("http://evil.example:8080", "example.com:8080"));
}

TEST(SameOrigin, FillsInTheDefaultPortOfTheOriginsScheme) {
  EXPECT_TRUE(same_origin_as_host("http://example.com", "example.com"));
  EXPECT_TRUE(same_origin_as_host("http://example.com", "example.com:80"));
  EXPECT_TRUE(same_origin_as_host("http://example.com:80", "example.com"));
  EXPECT_TRUE(same_origin_as_host("https://example.com", "example.com"));
  EXPECT_TRUE(same_origin_as_host("https://example.com", "example.com:443"));
  EXPECT_FALSE(same_origin_as_host("https://example.com", "example.com:80"));
  EXPECT_FALSE(same_origin_as_host("http://example.com", "example.com:443"));
}

TEST(SameOrigin, ComparesBracketedIpv6Hosts) {
  EXPECT_TRUE(same_origin_as_host("http://[::1]:8080", "[::1]:8080"));
  EXPECT_TRUE(same_origin_as_host("https://[2001:db8::1]", "[2001:DB8::1]:443"));
  EXPECT_FALSE(same_origin_as_host("http://[::1]:8080", "[::2]:8080"));
  EXPECT_FALSE(same_origin_as_host("http://[::1]:8080", "[::1]:8081"));
  EXPECT_FALSE(same_origin_as_host("http://[::1", "[::1]"));
}

TEST(SameOrigin, IgnoresCase) {
  EXPECT_TRUE(same_origin_as_host("HTTP://Example.COM:8080", "example.com:8080"));
  EXPECT_TRUE(same_origin_as_host("http://example.com", "EXAMPLE.com"));
}

TEST(SameOrigin, NeverHoldsForOpaqueOrMalformedValues) {
  EXPECT_FALSE(same_origin_as_host("null", "null"));
  EXPECT_FALSE(same_origin_as_host("file://example.com", "example.com"));
  EXPECT_FALSE(same_origin_as_host("chrome-extension://abc", "abc"));
  EXPECT_FALSE(same_origin_as_host("http://example.com/path", "example.com"));
  EXPECT_FALSE(same_origin_as_host("http://example.com:", "example.com"));
  EXPECT_FALSE(same_origin_as_host("http://example.com:99999", "example.com:99999"));
  EXPECT_FALSE(same_origin_as_host("http://example.com:80x", "example.com:80x"));
  EXPECT_FALSE(same_origin_as_host("http://", ""));
  EXPECT_FALSE(same_origin_as_host("http://example.com", ""));
}

TEST(Handshake, SelectsTheFirstOfferedSupportedProtocol) {
  const std::vector<std::string> supported = {"actioncable-v1-json", "actioncable-unsupported"};
  EXPECT_EQ(select_subprotocol("actioncable-unsupported, actioncable-v1-json", supported),
            "actioncable-unsupported");
  EXPECT_EQ(select_subprotocol("  x ,\tactioncable-v1-json\t, y", supported),
            "actioncable-v1-json");
  EXPECT_EQ(select_subprotocol("anycable-token.xyz", supported), "");
  EXPECT_EQ(select_subprotocol("", supported), "");
  EXPECT_EQ(select_subprotocol(",,", supported), "");
  EXPECT_EQ(select_subprotocol("ActionCable-v1-json", supported), "");
}

TEST(Handshake, BuildsACompleteHttpResponse) {
  EXPECT_EQ(http_response(400, "text/plain", "nope"),
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n"
            "Connection: close\r\n\r\nnope");
  EXPECT_EQ(http_response(426, "text/plain", "", "Sec-WebSocket-Version: 13"),
            "HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n"
            "Connection: close\r\nSec-WebSocket-Version: 13\r\n\r\n");
}

}  // namespace
}  // namespace cablecast::ws
