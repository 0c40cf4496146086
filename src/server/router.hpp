#pragma once
// Decides what an HTTP request on our port gets: the WebSocket upgrade on the cable path (a new
// Session), a static file of the demo page, or a 404.
#include <memory>

#include "server/assets.hpp"
#include "session/environment.hpp"
#include "ws/connection.hpp"
#include "ws/handshake.hpp"

namespace cablecast::server {

struct RouterOptions {
  std::string cable_path = "/cable";
  ws::HandshakeOptions handshake;
  bool serve_demo = false;
  std::size_t max_connections = 0;  // 0 = no limit
};

class Router final : public ws::Router {
 public:
  Router(const RouterOptions& options, session::Environment& env) : options_(options), env_(env) {}

  ws::Route route(const ws::Request& request, ws::Transport& transport) override;

 private:
  ws::Route serve_file(const ws::Request& request, std::string_view path);

  const RouterOptions& options_;
  session::Environment& env_;
};

}  // namespace cablecast::server
