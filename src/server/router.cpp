#include "server/router.hpp"

#include "core/log.hpp"
#include "session/session.hpp"

namespace cablecast::server {

namespace http = boost::beast::http;

namespace {
metrics::HandshakeRejection handshake_rejection(ws::UpgradeRefusal refusal) {
  switch (refusal) {
    case ws::UpgradeRefusal::not_websocket:
      return metrics::HandshakeRejection::not_websocket;
    case ws::UpgradeRefusal::version:
      return metrics::HandshakeRejection::version;
    case ws::UpgradeRefusal::origin:
      return metrics::HandshakeRejection::origin;
    case ws::UpgradeRefusal::bad_key:
    case ws::UpgradeRefusal::none:
      break;
  }
  return metrics::HandshakeRejection::bad_request;
}
}  // namespace

ws::Route Router::route(const ws::Request& request, ws::Transport& transport) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));

  if (path == options_.cable_path) {
    if (options_.max_connections &&
        env_.open_sessions.load(std::memory_order_relaxed) >= options_.max_connections) {
      CC_LOG_WARN("refusing a WebSocket upgrade: {} connections open (--max-connections)",
                  options_.max_connections);
      env_.metrics.handshakes_rejected.add(metrics::HandshakeRejection::connection_limit);
      return ws::Route{
          ws::http_response(503, "text/plain; charset=utf-8",
                            "Server is at its connection limit, retry later", "Retry-After: 5\r\n"),
          nullptr,
          {}};
    }
    ws::UpgradeDecision decision = ws::decide_upgrade(request, options_.handshake);
    if (!decision.accepted) {
      if (refused_upgrades_.allow()) {
        CC_LOG_INFO("refused WebSocket upgrade on {} ({}): {}", log::clip(path), decision.status,
                    decision.log_reason);
      }
      env_.metrics.handshakes_rejected.add(handshake_rejection(decision.refusal));
      return ws::Route{std::move(decision.response), nullptr, {}};
    }
    return ws::Route{std::move(decision.response),
                     std::make_unique<session::Session>(env_, transport),
                     std::move(decision.subprotocol)};
  }
  if (broadcast_.serves(path)) return broadcast_.route(request);
  if (options_.metrics && options_.metrics->serves(path)) return options_.metrics->route(request);
  if (options_.health && (path == "/health" || path == "/ready")) {  // docs/health.md
    const HealthMonitor& health = *options_.health;
    return {path == "/health" ? health.health_response() : health.ready_response(), nullptr, {}};
  }
  if (!options_.static_files.empty()) return serve_file(request, path);
  return ws::Route{
      ws::http_response(404, "text/plain; charset=utf-8", "Page not found"), nullptr, {}};
}

ws::Route Router::serve_file(const ws::Request& request, std::string_view path) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    return ws::Route{ws::http_response(405, "text/plain; charset=utf-8", "Method not allowed",
                                       "Allow: GET, HEAD\r\n"),
                     nullptr,
                     {}};
  }
  for (const StaticFile& file : options_.static_files) {
    if (file.url != path) continue;
    std::string response =
        ws::http_response(200, file.content_type, file.bytes, "Cache-Control: no-cache\r\n");
    if (request.method() == http::verb::head) response.resize(response.find("\r\n\r\n") + 4);
    return ws::Route{std::move(response), nullptr, {}};
  }
  return ws::Route{
      ws::http_response(404, "text/plain; charset=utf-8", "Page not found"), nullptr, {}};
}

}  // namespace cablecast::server
