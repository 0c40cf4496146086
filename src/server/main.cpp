// The `cablecast` binary: `cablecast serve` runs the server with the built-in channels and the
// demo chat page.
#include <CLI/CLI.hpp>
#include <cablecast/server.hpp>
#include <cstdio>

#include "core/log.hpp"
#include "server/builtin_channels.hpp"

namespace {

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos
                                                                     : comma - start);
    auto first = item.find_first_not_of(" \t");
    auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos) out.push_back(item.substr(first, last - first + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int serve(cablecast::ServerOptions options, const std::string& origins) {
  options.allowed_origins = split_list(origins);
  options.serve_demo = true;
  cablecast::Server server(options);
  cablecast::builtin::install(server);
  if (auto started = server.start(); !started) return 1;
  if (auto ran = server.run(); !ran) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Cablecast: a fast Action Cable (Rails) WebSocket server"};
  app.require_subcommand(1);
  std::string log_level = "info";

  cablecast::ServerOptions options;
  std::string origins;
  unsigned handshake_ms = 5000, idle_ms = 60000, shutdown_ms = 5000;
  auto* serve_cmd = app.add_subcommand("serve", "Run the server (built-in channels, demo page)");
  serve_cmd->add_option("--host", options.host, "Address to listen on")
      ->capture_default_str();
  serve_cmd->add_option("--port", options.port, "TCP port (0 = any free port)")
      ->capture_default_str();
  serve_cmd->add_option("--path", options.path, "Action Cable mount path")
      ->capture_default_str()
      ->check([](const std::string& p) {
        return p.starts_with('/') ? std::string() : std::string("must start with /");
      });
  serve_cmd->add_option("--allowed-origins", origins,
                        "Comma-separated allowed Origin values, '*' wildcards "
                        "(e.g. 'https://*.example.com'). Default: every origin. When set, a "
                        "missing or other Origin gets HTTP 404 before the upgrade (as Rails)");
  serve_cmd->add_option("--max-message-size", options.max_message_size,
                        "Largest client message in bytes; bigger ones close the connection "
                        "with 1009")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{128}, std::size_t{1} << 30));
  serve_cmd->add_option("--max-outbound-bytes", options.max_outbound_bytes,
                        "Bytes queued for a client that does not read before it is dropped")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{4096}, std::size_t{1} << 32));
  serve_cmd->add_option("--threads", options.threads, "Event loops (0 = one per core)")
      ->capture_default_str();
  serve_cmd->add_option("--handshake-timeout", handshake_ms,
                        "Milliseconds a client has to send its HTTP upgrade request")
      ->capture_default_str();
  serve_cmd->add_option("--idle-timeout", idle_ms,
                        "Milliseconds without any byte from a client before it is closed; a "
                        "WebSocket ping is sent at half of it (0 = off)")
      ->capture_default_str();
  serve_cmd->add_option("--shutdown-timeout", shutdown_ms,
                        "Milliseconds to drain connections on SIGTERM/SIGINT before forcing")
      ->capture_default_str();
  serve_cmd->add_option("--log-level", log_level,
                        "trace, debug, info, warn, error, critical or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  CLI11_PARSE(app, argc, argv);
  cablecast::log::set_level(log_level);

  if (*serve_cmd) {
    options.handshake_timeout = std::chrono::milliseconds(handshake_ms);
    options.idle_timeout = std::chrono::milliseconds(idle_ms);
    options.shutdown_timeout = std::chrono::milliseconds(shutdown_ms);
    return serve(options, origins);
  }
  return 0;
}
