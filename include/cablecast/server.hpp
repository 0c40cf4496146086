#pragma once
// The embeddable server: register channels, set the connect hook, run.
//
//   cablecast::ServerOptions options;
//   options.port = 8080;
//   cablecast::Server server(options);
//   server.channel<ChatChannel>("ChatChannel");
//   server.on_connect([](const cablecast::ConnectionRequest& r) {
//     return cablecast::ConnectResult::accept({{"user", r.query("user").value_or("anonymous")}});
//   });
//   return server.run();   // until SIGINT/SIGTERM (or stop()), then a graceful shutdown
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>
#include <cablecast/anycable_options.hpp>
#include <cablecast/channel.hpp>
#include <cablecast/connection.hpp>
#include <cablecast/defaults.hpp>
#include <cablecast/metrics_options.hpp>
#include <cablecast/pubsub_options.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cablecast {

// wss:// (and https:// for the demo page): set both files to serve TLS on the same port.
struct TlsOptions {
  std::string certificate_file;     // PEM chain: the certificate first, then intermediates
  std::string private_key_file;     // PEM, unencrypted
  std::string min_version = "1.2";  // "1.2" (forward-secret AEAD suites only) or "1.3"
  bool enabled() const { return !certificate_file.empty() || !private_key_file.empty(); }
};

// One file of ServerOptions::static_files.
struct StaticFile {
  std::string_view url;           // "/", "/chat.js"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view bytes;
};

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked: a server is not public by accident
  std::uint16_t port = 8080;       // 0 = any free port (see Server::port())
  std::string path = "/cable";     // the Action Cable mount path, as in Rails
  // Against cross-site WebSocket hijacking (a page on another site opening a socket with the
  // visitor's cookies): a request with an Origin header is accepted when that origin's host and
  // port are the Host header's (same-origin, as Rails' default), or it matches one of these
  // patterns (`*` wildcards, e.g. "https://*.example.com"). A request without Origin (not a
  // browser) is accepted while the list is empty and refused once it is set, as in Rails.
  // {"*"} accepts every request. Refused: HTTP 404 before the upgrade, as in Rails.
  std::vector<std::string> allowed_origins;
  // Bytes; bigger client messages: close 1009.
  std::size_t max_message_size = defaults::max_message_size;
  // Bytes queued for one client before it counts as too slow and is dropped.
  std::size_t max_outbound_bytes = defaults::max_outbound_bytes;
  // WebSocket connections this process accepts; over it the upgrade gets HTTP 503. 0 = the
  // open-file limit minus a reserve (each connection is a file descriptor).
  std::size_t max_connections = 0;
  // Per connection; beyond: reject_subscription.
  std::size_t max_subscriptions = defaults::max_subscriptions;
  // Per connection; 0 = off; over: close 1008.
  std::uint32_t max_commands_per_second = defaults::max_commands_per_second;
  // Event loops; 0 = one per CPU this process may use: the affinity mask (taskset, cpusets) and
  // the cgroup CPU quota (container limits), rounded down, at least 1 (core/cpu_budget.hpp).
  unsigned threads = 0;
  // Pins event loop i to the i-th CPU of the affinity mask (round robin), so a loop keeps its
  // CPU's caches; for machines dedicated to the server. Off by default.
  bool pin_threads = false;
  std::chrono::milliseconds handshake_timeout = defaults::handshake_timeout;
  // Without a byte from the client: a ping at half of it, a close at it. 0 = off.
  std::chrono::milliseconds idle_timeout = defaults::idle_timeout;
  std::chrono::milliseconds ping_interval{3000};  // Action Cable heartbeat (clients expect 3 s)
  // Graceful drain before forcing.
  std::chrono::milliseconds shutdown_timeout = defaults::shutdown_timeout;
  // GET /health's canary: one message through the pub/sub adapter per interval (docs/health.md).
  std::chrono::milliseconds health_interval = defaults::health_interval;
  // How long start-up waits for an unreachable broker before giving up (run() returns the
  // error); 0 = forever. Meanwhile the node serves, and /ready and /health answer 503.
  std::chrono::seconds pubsub_wait = defaults::pubsub_wait;
  unsigned blocking_threads = 4;  // pool for Channel::run_blocking
  bool handle_signals = true;     // SIGINT/SIGTERM -> graceful shutdown in run()
  // SO_REUSEPORT on the listening socket: several processes bind the same host:port and the
  // kernel spreads new connections over them (beyond one process's open-file limit, or a
  // new version started before the old one stops). They must share a broker (redis or
  // postgres pub/sub), or a broadcast reaches only the clients of the process it came from.
  bool reuse_port = false;
  // Send each event-loop turn's frames to all plain connections with one io_uring
  // submission instead of one sendmsg per connection (~37 % less CPU per delivery, measured
  // in docs/architecture.md). Where the kernel refuses io_uring (old kernels, seccomp
  // profiles) the server logs why and sends one connection at a time. TLS connections always
  // send one at a time (OpenSSL writes).
  bool io_uring = true;
  // Files served by GET/HEAD on the main port at their url (the binary's demo page); any other
  // path that is not the cable path or an endpoint gets 404. The bytes must outlive the Server
  // (static data, as the binary's embedded assets).
  std::span<const StaticFile> static_files;
  PubSubOptions pubsub;      // memory by default; redis/postgres to join several nodes
  TlsOptions tls;            // off by default (put TLS in front, or set the two files)
  AnyCableOptions anycable;  // RPC, HTTP broadcasts, JWT, signed/Turbo streams: all off
  MetricsOptions metrics;    // GET /metrics on the main port by default (docs/metrics.md)
};

class Server {
 public:
  // Pub/sub as options.pubsub says (memory by default).
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers channel class T under its identifier name ("ChatChannel",
  // "Admin::AlertsChannel"). Before start() only.
  template <class T>
  void channel(std::string name) {
    add_channel(detail::make_channel_class<T>(std::move(name)));
  }

  // The connection hook; without one every connection is accepted with no identifiers.
  void on_connect(std::function<ConnectResult(const ConnectionRequest&)> hook);

  // Connects the pub/sub adapter, binds and starts the event loops; returns once listening
  // (port() is then known). Errors (bad adapter URL, refused credentials, port in use) are
  // logged with their reason and returned. A broker that cannot be reached yet is not an error:
  // the node serves and retries (see pubsub_wait).
  boost::system::result<void> start();
  // start() if needed, then blocks until stop() or a signal; returns after a graceful shutdown,
  // with an error when the node gave up waiting for its broker (pubsub_wait).
  boost::system::result<void> run();
  // Graceful shutdown from any thread: stop accepting, send every client
  // {"type":"disconnect","reason":"server_restart","reconnect":true}, flush, close, join.
  void stop();

  // Broadcasts `message` to every subscriber of `broadcasting` on every node. Any thread.
  // An error means it did not leave this node (e.g. the broker is down).
  boost::system::result<void> broadcast(std::string_view broadcasting,
                                        const boost::json::value& message);

  // Re-reads options().tls's certificate and key files (certificate rotation; the binary does it
  // on SIGHUP). New connections use them; open ones keep their session. On error (logged) the
  // current certificate stays. Any thread, once started with TLS.
  boost::system::result<void> reload_tls();

  std::uint16_t port() const;            // the bound port (useful with port 0)
  std::size_t connection_count() const;  // open WebSocket sessions, all loops
  const ServerOptions& options() const;
  // What GET /metrics answers (Prometheus text format 0.0.4), whatever options().metrics says.
  // Any thread, once started.
  std::string metrics_text() const;
  // The port of the separate metrics listener (options().metrics.port); 0 when metrics are
  // served on the main port, or off.
  std::uint16_t metrics_port() const;

 private:
  void add_channel(detail::ChannelClass cls);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cablecast
