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

TEST(Handshake, AcceptsAnyOriginWhenNoPatternIsConfigured) {
  EXPECT_TRUE(decide_upgrade(upgrade_request("Origin: https://evil.test\r\n"), HandshakeOptions{})
                  .accepted);
  EXPECT_TRUE(decide_upgrade(upgrade_request(), HandshakeOptions{}).accepted);
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

TEST(Handshake, RefusesAMissingOriginWhenPatternsAreConfigured) {
  HandshakeOptions options;
  options.allowed_origins = {"*"};
  EXPECT_EQ(decide_upgrade(upgrade_request(), options).status, 404u);
  EXPECT_TRUE(decide_upgrade(upgrade_request("Origin: null\r\n"), options).accepted);
}

TEST(Handshake, MatchesOriginPatternsAsGlobs) {
  const std::vector<std::string> patterns = {"https://*.example.com", "http://localhost:*"};
  EXPECT_TRUE(origin_allowed("https://app.example.com", patterns));
  EXPECT_TRUE(origin_allowed("https://a.b.example.com", patterns));
  EXPECT_TRUE(origin_allowed("http://localhost:3000", patterns));
  EXPECT_FALSE(origin_allowed("https://example.com", patterns));
  EXPECT_FALSE(origin_allowed("https://evilexample.com", patterns));
  EXPECT_FALSE(origin_allowed("http://app.example.com", patterns));
  EXPECT_FALSE(origin_allowed("https://app.example.com.evil.test", patterns));
  EXPECT_FALSE(origin_allowed("http://localhost.evil.test", patterns));
  EXPECT_FALSE(origin_allowed("", patterns));
}

TEST(Handshake, MatchesPatternsWithSeveralStars) {
  EXPECT_TRUE(origin_allowed("https://a-b.c-d.test", {"https://*-*.*-*.test"}));
  EXPECT_FALSE(origin_allowed("https://ab.c-d.test", {"https://*-*.*-*.test"}));
  EXPECT_TRUE(origin_allowed("x", {"**x**"}));
  // Many stars against a long non-matching value must still be quick.
  EXPECT_FALSE(origin_allowed(std::string(5000, 'a'), {"*a*a*a*a*a*a*a*a*b"}));
}

TEST(Handshake, ComparesOriginsCaseInsensitively) {
  EXPECT_TRUE(origin_allowed("HTTPS://App.Example.COM", {"https://*.example.com"}));
  EXPECT_TRUE(origin_allowed("https://app.example.com", {"HTTPS://APP.EXAMPLE.COM"}));
}

TEST(Handshake, AllowsEveryOriginWithAnEmptyPatternList) {
  EXPECT_TRUE(origin_allowed("https://anything.test", {}));
  EXPECT_TRUE(origin_allowed("", {}));
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
