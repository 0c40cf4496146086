#pragma once
// Prometheus metrics (docs/metrics.md): GET /metrics in the text exposition format.
#include <cstdint>
#include <string>

namespace cablecast {

struct MetricsOptions {
  bool enabled = true;  // false: /metrics answers 404 everywhere
  // 0: served on the main port (ServerOptions::port). Otherwise served only on this port, on a
  // listener of its own bound to `host`, and the main port answers 404 for `path` (metrics
  // stay off the public port).
  std::uint16_t port = 0;
  std::string host = "127.0.0.1";  // the separate listener's address (loopback: not public)
  std::string path = "/metrics";
};

}  // namespace cablecast
