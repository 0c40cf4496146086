#pragma once
// What `cablecast serve` can be told, from (highest precedence first) the command line, the
// environment (CABLECAST_<FLAG>, e.g. CABLECAST_PORT) and a TOML config file (--config).
#include <cablecast/server.hpp>
#include <optional>
#include <string>

namespace cablecast::server {

struct ServeSettings {
  ServerOptions server;
  std::string allowed_origins;  // comma-separated, split into server.allowed_origins
  unsigned handshake_timeout_ms = 5000;
  unsigned idle_timeout_ms = 60000;
  unsigned shutdown_timeout_ms = 5000;
  std::string log_level = "info";

  // Copies the string/millisecond fields into `server`.
  ServerOptions finish() const;
};

// Reads a TOML file whose keys are the flag names with '_' or '-' (e.g. `port = 9000`,
// `redis_url = "redis://…"`, `allowed_origins = ["https://a.example"]`), at top level or in a
// [serve] table, into `settings`. Returns an error message (unknown key, wrong type, unreadable
// file, TOML syntax error with line) or nothing.
std::optional<std::string> load_config_file(const std::string& path, ServeSettings& settings);

}  // namespace cablecast::server
