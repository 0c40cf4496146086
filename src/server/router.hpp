#pragma once
// Decides what an HTTP request on our port gets: the WebSocket upgrade on the cable path (a new
// Session), the HTTP broadcast API (when it has a key), one of the static files, or a 404.
#include <cablecast/anycable_options.hpp>
#include <cablecast/server.hpp>
#include <memory>

#include "core/line_budget.hpp"
#include "server/broadcast_endpoint.hpp"
#include "server/health.hpp"
#include "server/metrics_endpoint.hpp"
#include "session/environment.hpp"
#include "ws/handshake.hpp"
#include "ws/router.hpp"

namespace cablecast::server {

struct RouterOptions {
  std::string cable_path = "/cable";
  ws::HandshakeOptions handshake;
  std::span<const StaticFile> static_files;  // ServerOptions::static_files
  std::size_t max_connections = 0;           // 0 = no limit
  BroadcastApiOptions broadcast;             // POST <path>; off without a key
  const MetricsEndpoint* metrics = nullptr;  // GET /metrics here; null: off or on its own port
  const HealthMonitor* health = nullptr;     // GET /health and /ready; null: not served
};

class Router final : public ws::Router {
 public:
  Router(const RouterOptions& options, session::Environment& env)
      : options_(options),
        env_(env),
        broadcast_(options.broadcast, env.adapter, env.broker.history, env.metrics) {}

  ws::Route route(const ws::Request& request, ws::Transport& transport) override;

 private:
  ws::Route serve_file(const ws::Request& request, std::string_view path);

  const RouterOptions& options_;
  session::Environment& env_;
  BroadcastEndpoint broadcast_;
  // Refused upgrades are the client's doing (a page on another site retries at will): one line
  // each within this loop's budget.
  log::LineBudget refused_upgrades_;
};

}  // namespace cablecast::server
