#pragma once
// The body of one HTTP request, for the few routes that take one (POST /_broadcast; see
// ws::BodyHandler in ws/router.hpp). The
// connection reads every request's header with Beast's empty-body parser; when the route wants
// the body, that parser is handed over here (Beast moves a parser to another body type once the
// header is complete) and the connection only feeds bytes. It lives while that one request is
// read, inside the connection's handshake state: an idle WebSocket connection never holds one.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cablecast::ws {

// Whether the request asks for "100 Continue" before sending its body (curl does for large
// ones); answering saves the client a one-second wait.
bool expects_continue(
    const boost::beast::http::request_parser<boost::beast::http::empty_body>& header_parser);

enum class BodyStatus : std::uint8_t { need_more, complete, too_large, malformed };

class HttpBodyReader {
 public:
  using Status = BodyStatus;

  // Takes over `header_parser`: its header complete, no body byte parsed yet.
  HttpBodyReader(boost::beast::http::request_parser<boost::beast::http::empty_body>&& header_parser,
                 std::size_t limit);

  // Body bytes as they arrive (anything behind the body is ignored: the connection closes
  // after its answer).
  Status feed(std::span<const char> bytes);

  // The body, once complete.
  std::string_view body() const { return parser_.get().body(); }
  // Why it is malformed (chunk syntax), for the log.
  boost::system::error_code error() const { return error_; }

 private:
  boost::beast::http::request_parser<boost::beast::http::string_body> parser_;
  boost::beast::flat_buffer pending_;  // bytes the parser could not use yet (a split chunk line)
  boost::system::error_code error_;
};

}  // namespace cablecast::ws
