#pragma once
// What the server answers to an HTTP request on a new connection: a plain response, an upgrade
// to WebSocket (with the handler the frames go to), or a body to read first. The connection
// (ws/connection.hpp) asks the Router once the request's header is in; the server implements
// it (server/router.hpp: the cable endpoint, health, metrics, broadcasts, static files).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "ws/handshake.hpp"
#include "ws/transport.hpp"

namespace cablecast::ws {

// A route that takes the request's body (HTTP broadcasts): it answers once the body is in, or
// refuses one over its limit without reading the rest. Lives only while the request is read.
class BodyHandler {
 public:
  virtual ~BodyHandler() = default;
  // The complete body (at most Route::body_limit bytes): the serialized HTTP response.
  virtual std::string on_body(std::string_view body) = 0;
  // The body is over the limit (declared by Content-Length, or reached while reading chunks):
  // the serialized response (a 413). The rest of the body is never read.
  virtual std::string on_too_large() = 0;
};

// The answer to the HTTP request read on a new connection.
struct Route {
  std::string response;                     // serialized HTTP response, written first
  std::unique_ptr<MessageHandler> handler;  // non-null: after `response` (a 101), frames flow
  std::string subprotocol;                  // negotiated sub-protocol (upgrades only)
  // Non-null (and `response` empty): the request's body, at most `body_limit` bytes, is read
  // (ws/http_body_reader.hpp) and `body` makes the response. Requests of other routes must
  // have no body (400).
  std::unique_ptr<BodyHandler> body = nullptr;
  std::size_t body_limit = 0;
};

// Decides what to do with a request; implemented by the server (cable endpoint, demo page...).
class Router {
 public:
  virtual ~Router() = default;
  // Called once the request's header is complete, before any body byte is read. `transport`
  // is the connection the handler will speak through. The handler must not send before its
  // on_open() (called once the response is queued).
  virtual Route route(const Request& request, Transport& transport) = 0;
};

}  // namespace cablecast::ws
