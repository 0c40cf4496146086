// The `cablecast` binary:
//   cablecast serve      the server with the built-in channels and the demo chat page
//   cablecast broadcast  publish one message to a stream through Redis or PostgreSQL
//   cablecast bench      the load generator (bench/load; bench/README.md)
//   cablecast config     the settings serve would use, where each came from, secrets masked
//   cablecast version    version, commit, build type (also --version)
#include <CLI/CLI.hpp>
#include <cablecast/server.hpp>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "app/assets.hpp"
#include "app/broadcast_command.hpp"
#include "app/build_info.hpp"
#include "app/builtin_channels.hpp"
#include "app/config_command.hpp"
#include "app/settings.hpp"
#include "core/file_limit.hpp"
#include "core/log.hpp"
#include "server/anycable_secrets.hpp"
#include "server/options_check.hpp"
#if CABLECAST_WITH_BENCH
#include "load/command.hpp"  // bench/load
#endif

namespace {

using cablecast::app::ServeSettings;

// The config file must be read before the command line is parsed, so that the command line and
// the environment override it: find --config (or CABLECAST_CONFIG) by hand first.
std::string find_config_path(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) return argv[i + 1];
    if (arg.starts_with("--config=")) return std::string(arg.substr(9));
  }
  const char* env = std::getenv("CABLECAST_CONFIG");
  return env ? env : "";
}

// Every option of `serve` also reads CABLECAST_<NAME> from the environment, and one given
// twice takes its last value (scripts append overrides), as most servers do.
CLI::Option* from_environment_too(CLI::Option* option, const std::string& flag) {
  std::string env = "CABLECAST_" + flag.substr(2);
  for (auto& c : env) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return option->envname(env)->capture_default_str()->multi_option_policy(
      CLI::MultiOptionPolicy::TakeLast);
}

template <class T>
CLI::Option* option(CLI::App* cmd, const std::string& flag, T& target, const std::string& help) {
  return from_environment_too(cmd->add_option(flag, target, help), flag);
}

// A boolean switch: `--name` turns it on; also `--name=false`, CABLECAST_<NAME>=true|false.
// CLI11 keeps no default text for flags: it is set here, for --help and `cablecast config`.
CLI::Option* flag(CLI::App* cmd, const std::string& name, bool& target, const std::string& help) {
  return from_environment_too(cmd->add_flag(name, target, help), name)
      ->default_str(target ? "true" : "false");
}

// A secret (a key): from the command line, CABLECAST_<NAME> or the config file like any other,
// but never shown, not even as the default in --help (which may come from the config file).
// Its type name SECRET is what `cablecast config` masks by (app/config_command.hpp).
CLI::Option* secret_option(CLI::App* cmd, const std::string& flag, std::string& target,
                           const std::string& help) {
  std::string env = "CABLECAST_" + flag.substr(2);
  for (auto& c : env) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return cmd->add_option(flag, target, help)
      ->envname(env)
      ->type_name("SECRET")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

// HTTP broadcasts and anycable-rails' Redis channel (docs/broadcasting.md).
void add_broadcast_options(CLI::App* cmd, cablecast::BroadcastApiOptions& b) {
  secret_option(cmd, "--broadcast-key", b.key,
                "Key of the HTTP broadcast API (POST --broadcast-path with 'Authorization: Bearer "
                "<key>'); without one the endpoint is off (404)");
  option(cmd, "--broadcast-path", b.path, "Path of the HTTP broadcast API on --port");
  option(cmd, "--broadcast-max-body", b.max_body_bytes,
         "Largest HTTP broadcast body in bytes (128 to 2^30); bigger ones get 413");
  option(cmd, "--redis-broadcast-channel", b.redis_channel,
         "With --pubsub redis, also deliver the publications anycable-rails PUBLISHes on this "
         "Redis channel (empty: off)");
}

void add_pubsub_options(CLI::App* cmd, cablecast::PubSubOptions& p) {
  option(cmd, "--pubsub", p.adapter,
         "Pub/sub adapter: memory (one process), redis or postgres (several nodes)")
      ->check(CLI::IsMember({"memory", "redis", "postgres", "postgresql"}));
  option(cmd, "--redis-url", p.redis_url, "Redis URL for --pubsub redis (as Rails' cable.yml url)");
  option(cmd, "--postgres-url", p.postgres_url,
         "PostgreSQL connection URI or libpq string for --pubsub postgres");
  option(cmd, "--channel-prefix", p.channel_prefix,
         "Prefix of broker channel names, as Rails' channel_prefix (\"<prefix>:<stream>\")");
}

// AnyCable's settings under the same names (docs/rails.md maps every anycable-go setting).
void add_anycable_options(CLI::App* cmd, ServeSettings& s) {
  auto& a = s.server.anycable;
  secret_option(
      cmd, "--secret", a.secret,
      "The one secret of an app set up for AnyCable: every key below left empty is derived "
      "from it as AnyCable does (never logged)");
  option(cmd, "--rpc-url", a.rpc.url,
         "The application's AnyCable RPC: http://host:port/base (POST base/connect|command|"
         "disconnect), https://…, or grpc://host:port. Channels not registered in C++ go there");
  secret_option(cmd, "--rpc-secret", a.rpc.secret,
                "HTTP RPC: Authorization: Bearer <secret> (default: derived from --secret)");
  option(cmd, "--rpc-concurrency", a.rpc.concurrency,
         "RPC calls in flight at most; the rest wait in a queue (1 to 1024)");
  option(cmd, "--rpc-timeout", s.rpc_timeout_ms,
         "Milliseconds an RPC call may take, queueing and retries included");
  option(cmd, "--rpc-headers", s.rpc_headers,
         "Comma-separated request headers forwarded to the application in env.headers");
  secret_option(cmd, "--jwt-secret", a.jwt.secret,
                "HMAC key of AnyCable JWT identification tokens (default: --secret)");
  option(cmd, "--jwt-param", a.jwt.param,
         "Query parameter of the token (the header is X-<PARAM>, e.g. X-JID)");
  flag(cmd, "--enforce-jwt", a.jwt.enforce, "Refuse connections without a token");
  secret_option(
      cmd, "--streams-secret", a.streams.secret,
      "Key of signed $pubsub stream names (Rails MessageVerifier, SHA256; default: --secret)");
  flag(cmd, "--public-streams", a.streams.public_streams,
       "Also accept {\"channel\":\"$pubsub\",\"stream_name\":…}, unsigned");
  secret_option(cmd, "--turbo-streams-secret", a.streams.turbo_secret,
                "Serve Turbo::StreamsChannel natively with this raw verifier key (as AnyCable)");
  secret_option(
      cmd, "--secret-key-base", a.streams.secret_key_base,
      "Serve Turbo::StreamsChannel natively with the key Rails derives from secret_key_base");
  option(cmd, "--turbo-key-digest", a.streams.turbo_key_digest,
         "Digest of that derivation: sha256 (Rails 7+ defaults) or sha1");
  option(cmd, "--streams-presence", a.streams.presence,
         "Presence on signed $pubsub streams (public ones always have it): true or false");
  option(cmd, "--streams-whisper", a.streams.whisper,
         "Whispers on signed $pubsub streams (public ones always have them): true or false");
  auto& e = a.extended;
  option(cmd, "--history-limit", e.history_limit,
         "Messages kept per stream for clients that reconnect (0: history off)");
  option(cmd, "--history-ttl", s.history_ttl_s, "Seconds a stream's message is kept in history");
  option(cmd, "--sessions-ttl", s.sessions_ttl_s,
         "Seconds a closed extended-protocol session can be restored by its sid");
  option(cmd, "--presence-ttl", s.presence_ttl_s,
         "Seconds a closed connection stays present (a reconnecting tab does not flicker)");
  option(cmd, "--pong-timeout", s.pong_timeout_s,
         "Seconds an extended-protocol client may leave pings unanswered (0: pongs not required)");
  option(cmd, "--demo-channels", s.demo_channels,
         "The demo's ChatChannel, BenchmarkChannel and ?user= identification: auto (on unless "
         "--rpc-url is set, so they never shadow the application's), true or false")
      ->check(CLI::IsMember({"auto", "true", "false"}));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Cablecast: a fast Action Cable (Rails) WebSocket server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", cablecast::app::version_line());
  auto* version = app.add_subcommand("version", "Print the version, git commit and build type");

  ServeSettings s;
  std::string config_path = find_config_path(argc, argv);
  if (!config_path.empty()) {
    if (auto error = cablecast::app::load_config_file(config_path, s)) {
      std::fprintf(stderr, "cablecast: %s\n", error->c_str());
      return 2;
    }
  }

  std::map<std::string, std::string> anycable_sources;  // for `cablecast config`
  if (auto error = cablecast::app::apply_anycable_environment(s, std::getenv, &anycable_sources)) {
    std::fprintf(stderr, "cablecast: %s\n", error->c_str());
    return 2;
  }

  // `cablecast config` is serve's own parser under another name, so it takes exactly serve's
  // flags (those added below included) and prints the settings instead of serving.
  constexpr const char* kConfigHelp =
      "Print every setting of serve (same flags) with its value and where it came from "
      "(default, file, env, flag); secrets masked";
  const bool config_mode = argc > 1 && std::string_view(argv[1]) == "config";
  auto* serve = config_mode
                    ? app.add_subcommand("config", kConfigHelp)
                    : app.add_subcommand("serve", "Run the server (built-in channels, demo page)");
  if (!config_mode) app.add_subcommand("config", kConfigHelp)->allow_extras();  // for --help
  serve
      ->add_option("--config", config_path,
                   "TOML file with any of these settings (keys as the flags, e.g. port = 9000); "
                   "the command line and CABLECAST_* variables override it")
      ->envname("CABLECAST_CONFIG");
  option(serve, "--host", s.server.host, "Address to listen on");
  option(serve, "--port", s.server.port, "TCP port (0 = any free port, logged at start)");
  // Value rules (ranges, the path's "/") are checked once every source is in, by Server::start
  // (server/options_check.cpp): a config file's values pass no CLI11 check.
  option(serve, "--path", s.server.path, "Action Cable mount path (starts with /)");
  option(serve, "--allowed-origins", s.allowed_origins,
         "Comma-separated Origin values with '*' wildcards (e.g. 'https://*.example.com') "
         "accepted besides the Host's own origin, which always is. Empty: same-origin only, "
         "and requests without Origin (not browsers). When set, a missing Origin is refused "
         "too. '*': every request. Refused: HTTP 404 before the upgrade (as Rails)");
  option(
      serve, "--max-message-size", s.server.max_message_size,
      "Largest client message in bytes (128 to 2^30); bigger ones close the connection with 1009");
  option(serve, "--max-outbound-bytes", s.server.max_outbound_bytes,
         "Bytes queued for a client that does not read before it is dropped (4096 to 2^32)");
  option(serve, "--max-connections", s.server.max_connections,
         "WebSocket connections accepted; over it the upgrade gets HTTP 503 (0 = the open-file "
         "limit minus 100)");
  option(serve, "--max-subscriptions", s.server.max_subscriptions,
         "Subscriptions per connection; a subscribe beyond it gets reject_subscription");
  option(serve, "--max-commands-per-second", s.server.max_commands_per_second,
         "Commands per connection per second; over it the connection is closed with 1008 "
         "(0 = no limit, as Rails)");
  option(serve, "--threads", s.server.threads,
         "Event loops (0 = one per CPU this process may use: its affinity mask and cgroup CPU "
         "quota, rounded down)");
  flag(serve, "--pin-threads", s.server.pin_threads,
       "Pin each event loop to one CPU of the affinity mask (machines dedicated to the server)");
  flag(serve, "--io-uring", s.server.io_uring,
       "Send each loop turn's frames with one io_uring submission (default; falls back to one "
       "sendmsg per connection where the kernel refuses io_uring); --io-uring=false to turn off");
  flag(serve, "--reuse-port", s.server.reuse_port,
       "Share --host:--port with other cablecast processes (SO_REUSEPORT; the kernel spreads "
       "connections over them); join them with --pubsub redis or postgres");
  option(serve, "--handshake-timeout", s.handshake_timeout_ms,
         "Milliseconds a client has to send its HTTP upgrade request");
  option(serve, "--idle-timeout", s.idle_timeout_ms,
         "Milliseconds without any byte from a client before it is closed; a WebSocket ping "
         "is sent at half of it, which browsers answer by themselves (0 = off)");
  option(serve, "--shutdown-timeout", s.shutdown_timeout_ms,
         "Milliseconds to drain connections on SIGTERM/SIGINT before forcing");
  option(serve, "--health-interval", s.health_interval_ms,
         "Milliseconds between health canaries (a message through the pub/sub adapter that "
         "must come back) and RPC backend probes; GET /health reports them (100 to 600000)");
  option(serve, "--pubsub-wait", s.pubsub_wait_s,
         "Seconds to wait at start for an unreachable Redis/PostgreSQL before exiting with an "
         "error (0 = forever); meanwhile /ready and /health answer 503");
  option(serve, "--tls-cert", s.server.tls.certificate_file,
         "PEM certificate chain: serve wss:// and https:// on --port (needs --tls-key)");
  option(serve, "--tls-key", s.server.tls.private_key_file, "PEM private key of --tls-cert");
  option(serve, "--tls-min-version", s.server.tls.min_version,
         "Oldest TLS version accepted: 1.2 (forward-secret AEAD suites only) or 1.3");
  option(serve, "--log-level", s.log_level, "trace, debug, info, warn, error, critical or off");
  option(serve, "--log-format", s.log_format,
         "text, or json: one JSON object per line (time, level, conn, message, fields)");
  flag(serve, "--metrics", s.server.metrics.enabled,
       "Prometheus metrics at GET /metrics (default; docs/metrics.md); --metrics=false: 404");
  option(serve, "--metrics-port", s.server.metrics.port,
         "Serve /metrics only on this port, bound to 127.0.0.1 (the main port then answers "
         "404); 0: on --port");
  add_pubsub_options(serve, s.server.pubsub);
  add_anycable_options(serve, s);
  add_broadcast_options(serve, s.server.anycable.broadcast);

  std::string stream, message;
  auto* broadcast =
      app.add_subcommand("broadcast",
                         "Publish one JSON message to a stream through Redis or PostgreSQL, as "
                         "ActionCable.server.broadcast does");
  broadcast->add_option("stream", stream, "Broadcasting name, e.g. chat_lobby")->required();
  broadcast->add_option("message", message, "JSON value, e.g. '{\"text\":\"hi\"}'")->required();
  add_pubsub_options(broadcast, s.server.pubsub);

#if CABLECAST_WITH_BENCH
  cablecast::bench::BenchCommand bench(app);
#else
  // Sanitizer trees build without it (CABLECAST_BUILD_BENCH=OFF): say so rather than
  // calling the word unknown.
  auto* bench =
      app.add_subcommand("bench", "Load generator (not built in this tree)")->allow_extras();
#endif

  CLI11_PARSE(app, argc, argv);

  if (*version) {
    std::printf("%s\n", cablecast::app::version_line().c_str());
    return 0;
  }

  if (*broadcast) return cablecast::app::broadcast_command(s.server.pubsub, stream, message);
#if CABLECAST_WITH_BENCH
  if (bench.selected()) return bench.run();
#else
  if (*bench) {
    std::fprintf(stderr,
                 "cablecast: bench is not built in this tree (CABLECAST_BUILD_BENCH=OFF)\n");
    return 2;
  }
#endif

  if (!cablecast::log::set_level(s.log_level)) {
    std::fprintf(stderr,
                 "cablecast: unknown log level \"%s\" (trace, debug, info, warn, error, "
                 "critical or off)\n",
                 s.log_level.c_str());
    return 2;
  }
  if (!cablecast::log::set_format(s.log_format)) {
    std::fprintf(stderr, "cablecast: unknown log format \"%s\" (text or json)\n",
                 s.log_format.c_str());
    return 2;
  }
  if (config_mode) {
    // The same rules Server::start applies, so an invalid setting fails here as in serve.
    cablecast::ServerOptions checked = s.finish();
    cablecast::server::resolve_anycable_secrets(checked.anycable);
    if (auto invalid = cablecast::server::invalid_option(checked)) {
      std::fprintf(stderr, "cablecast: invalid setting: %s\n", invalid->c_str());
      return 2;
    }
    cablecast::app::ConfigSources sources{
        config_path, cablecast::app::config_file_keys(config_path), anycable_sources, std::getenv};
    cablecast::app::print_config(*serve, sources, std::vector<std::string>(argv + 2, argv + argc),
                                 stdout);
    return 0;
  }
  if (auto files = cablecast::core::raise_open_file_limit(); files.now > files.before) {
    CC_LOG_DEBUG("open-file limit raised from {} to {}", files.before, files.now);
  }
  cablecast::ServerOptions options = s.finish();
  options.static_files = cablecast::app::embedded_assets();  // the demo page at "/"
  cablecast::Server server(options);
  if (s.wants_demo_channels()) cablecast::builtin::install(server);
  if (auto started = server.start(); !started) {
    std::fprintf(stderr, "cablecast: could not start: %s\n", started.error().message().c_str());
    return 1;
  }
  return server.run() ? 0 : 1;
}
