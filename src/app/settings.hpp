#pragma once
// What `cablecast serve` can be told, from (highest precedence first) the command line, the
// environment (CABLECAST_<FLAG>, e.g. CABLECAST_PORT) and a TOML config file (--config).
#include <cablecast/defaults.hpp>
#include <cablecast/server.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace cablecast::app {

// A default of cablecast/defaults.hpp in the unit of its flag (--idle-timeout takes ms).
template <class Duration>
constexpr unsigned flag_value(Duration d) {
  return static_cast<unsigned>(d.count());
}

struct ServeSettings {
  ServerOptions server;
  std::string allowed_origins;  // comma-separated, split into server.allowed_origins
  unsigned handshake_timeout_ms = flag_value(defaults::handshake_timeout);
  unsigned idle_timeout_ms = flag_value(defaults::idle_timeout);
  unsigned shutdown_timeout_ms = flag_value(defaults::shutdown_timeout);
  unsigned health_interval_ms = flag_value(defaults::health_interval);
  unsigned pubsub_wait_s = flag_value(defaults::pubsub_wait);
  std::string log_level = "info";
  std::string log_format = "text";     // text or json (docs/logging.md)
  std::string rpc_headers = "cookie";  // comma-separated, split into anycable.rpc.forward_headers
  unsigned rpc_timeout_ms = flag_value(defaults::rpc_timeout);
  // AnyCable's extended protocol, in seconds (anycable.extended)
  unsigned history_ttl_s = flag_value(defaults::history_ttl);
  unsigned sessions_ttl_s = flag_value(defaults::sessions_ttl);
  unsigned presence_ttl_s = flag_value(defaults::presence_ttl);
  unsigned pong_timeout_s = flag_value(defaults::pong_timeout);
  // The binary's demo channels and `user` query identification: "auto" = on unless --rpc-url
  // is set (an application's channel of the same name must never be shadowed), or true/false.
  std::string demo_channels = "auto";

  // Whether the demo channels are registered, given the settings.
  bool wants_demo_channels() const;

  // Copies the string/millisecond fields into `server`.
  ServerOptions finish() const;
};

// Reads a TOML file whose keys are the flag names with '_' or '-' (e.g. `port = 9000`,
// `redis_url = "redis://…"`, `allowed_origins = ["https://a.example"]`), at top level or in a
// [serve] table, into `settings`. Returns an error message (unknown key, wrong type, unreadable
// file, TOML syntax error with line) or nothing.
std::optional<std::string> load_config_file(const std::string& path, ServeSettings& settings);

// anycable-go's own environment variables (ANYCABLE_SECRET, ANYCABLE_RPC_HOST, ANYCABLE_HEADERS,
// ANYCABLE_JWT_SECRET, …; docs/rails.md lists them), so a deployment set up for anycable-go
// keeps its environment. They rank below CABLECAST_* variables and flags, above the config
// file. `getenv` is std::getenv in the binary. Returns an error message for a bad value.
// With `applied`, records which variable set each setting (config file key -> variable name),
// for `cablecast config`.
std::optional<std::string> apply_anycable_environment(
    ServeSettings& settings, const std::function<const char*(const char*)>& getenv,
    std::map<std::string, std::string>* applied = nullptr);

// The settings a config file sets, as normalized keys ("redis_url"), top level and [serve];
// empty when it cannot be read (load_config_file reports that).
std::vector<std::string> config_file_keys(const std::string& path);

}  // namespace cablecast::app
