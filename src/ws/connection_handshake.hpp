#pragma once
// Private to cablecast_ws: the HTTP phase of a Connection (ws/connection.cpp frees it and
// counts its memory; ws/connection_handshake.cpp reads the request with it).
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <memory>

#include "ws/connection.hpp"
#include "ws/http_body_reader.hpp"

namespace cablecast::ws {

struct Connection::Handshake {
  explicit Handshake(std::size_t header_limit) : buffer(header_limit + 1024) {
    parser.header_limit(static_cast<std::uint32_t>(header_limit));
    // Parsing stops at the end of the header (eager is off): the route decides whether a body
    // is read at all, and its limit (read_body).
    parser.body_limit(boost::none);
  }
  boost::beast::flat_buffer buffer;
  boost::beast::http::request_parser<boost::beast::http::empty_body> parser;
  // Only for a route that takes the body (HTTP broadcasts), once its header is complete.
  std::unique_ptr<BodyHandler> body_handler;
  std::unique_ptr<HttpBodyReader> body;
};

}  // namespace cablecast::ws
