// cablecast::Server: wires the stages together. Only this layer knows every module.
#include <sys/resource.h>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/errc.hpp>
#include <cablecast/server.hpp>
#include <deque>
#include <mutex>
#include <thread>

#include "broker/publish.hpp"
#include "core/assert.hpp"
#include "core/cpu_budget.hpp"
#include "core/log.hpp"
#include "hub/hub.hpp"
#include "metrics/node_metrics.hpp"
#include "protocol/encode.hpp"
#include "pubsub/factory.hpp"
#include "server/anycable_setup.hpp"
#include "server/broker_setup.hpp"
#include "server/health.hpp"
#include "server/loop.hpp"
#include "server/metrics_endpoint.hpp"
#include "server/options_check.hpp"
#include "server/publications.hpp"
#include "server/router.hpp"
#include "session/action_cable_frames.hpp"
#include "ws/tls_context.hpp"

namespace cablecast {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Acceptor = asio::basic_socket_acceptor<tcp, asio::io_context::executor_type>;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
using boost::system::error_code;

namespace {
// Every connection is a file descriptor: keep a reserve for listeners, broker connections,
// logs and the accept that must be answered with 503.
std::size_t default_max_connections() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return limit.rlim_cur > 128 ? static_cast<std::size_t>(limit.rlim_cur - 100) : 16;
}

// Header names are matched case-insensitively and sent in lower case, as AnyCable sends them.
std::vector<std::string> lower_case(std::vector<std::string> names) {
  for (auto& name : names) {
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return names;
}
}  // namespace

struct Server::Impl {
  Impl(ServerOptions opts, pubsub::AdapterOrError pubsub)
      : options(std::move(opts)),
        adapter(std::move(pubsub.adapter)),
        adapter_error(std::move(pubsub.error)),
        hub(*adapter_or_placeholder(), frames),
        blocking(options.blocking_threads == 0 ? 1 : options.blocking_threads) {}

  // The hub needs an adapter reference even when the configured one could not be built; start()
  // reports that error before anything can use it.
  pubsub::Adapter* adapter_or_placeholder() {
    if (!adapter) adapter = pubsub::make_adapter(PubSubOptions{}).adapter;
    return adapter.get();
  }
  boost::system::result<void> start_broker();
  void stop_broker();
  // A message on anycable-rails' Redis channel (the broker thread): publications for this node.
  void on_application_publication(std::string_view message);

  void start_accepting(std::size_t next_loop);
  void on_signal(const error_code& ec, int signal);
  void arm_reload_signal();
  boost::system::result<void> reload_tls();
  void begin_shutdown(std::chrono::milliseconds timeout);
  std::string metrics_text() const;
  boost::system::result<void> start_metrics();

  ServerOptions options;
  session::ChannelRegistry channels;
  session::ConnectHook connect;
  // The broker loop: its own thread, so broker I/O never delays client loops. Declared before
  // the adapter, so the adapter (which may own objects bound to it) is destroyed first.
  asio::io_context broker_io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> broker_work;
  std::thread broker_thread;
  std::unique_ptr<pubsub::Adapter> adapter;
  std::string adapter_error;  // why options.pubsub could not be turned into an adapter
  // One counter block per loop (core/loop_metrics.hpp), read by the scrape. Declared before the
  // hub: its shards count into them until they are destroyed. A deque: blocks never move.
  std::deque<metrics::LoopMetrics> loop_metrics;
  // Server::broadcast calls from threads that are not event loops (rare: a loop's own calls
  // count in its block).
  std::atomic<std::uint64_t> off_loop_broadcasts{0};
  session::ActionCableFrames frames;  // what the hub's broadcasts look like on the wire
  hub::Hub hub;
  // History, presence and the session cache (the extended protocol). Declared before the loops:
  // their sessions use them to the end.
  server::BrokerStores broker_stores;
  asio::thread_pool blocking;
  server::RouterOptions router_options;
  std::atomic<std::size_t> open_sessions{0};
  std::vector<std::unique_ptr<server::Loop>> loops;
  // The application over RPC (--rpc-url), shared by every loop; null without one. Declared after
  // the loops so it is destroyed first: its thread posts completions to their io_contexts.
  std::unique_ptr<rpc::Backend> rpc_backend;
  std::optional<server::MetricsEndpoint> metrics_endpoint;
  std::unique_ptr<server::MetricsListener> metrics_listener;  // --metrics-port, on loop 0
  std::uint16_t metrics_port = 0;
  std::optional<Acceptor> acceptor;
  std::optional<asio::signal_set> signals;
  std::optional<asio::signal_set> reload_signal;  // SIGHUP, with TLS only
  bool tls_enabled = false;
  std::optional<asio::steady_timer> accept_retry;
  // /health and /ready (docs/health.md); runs on loop 0, created once the broker started.
  std::unique_ptr<server::HealthMonitor> health;
  std::optional<error_code> gave_up;  // set on loop 0 when --pubsub-wait ran out; run() returns it
  std::uint16_t port = 0;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::once_flag joined;
  log::LineBudget bad_publications;  // broker thread only
};

Server::Server(ServerOptions options) {
  auto adapter = pubsub::make_adapter(options.pubsub);
  impl_ = std::make_unique<Impl>(std::move(options), std::move(adapter));
}

boost::system::result<void> Server::Impl::start_broker() {
  if (!adapter_error.empty()) {
    CC_LOG_ERROR("pub/sub: {}", adapter_error);
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  }
  broker_work.emplace(asio::make_work_guard(broker_io));
  broker_thread = std::thread([this] { broker_io.run(); });
  if (auto stores = broker_stores.start(); !stores) {
    stop_broker();
    return stores.error();
  }
  // anycable-rails publishes each broadcast once on this channel and every node receives it:
  // delivered here to this node's clients, never published again.
  if (const auto& channel = options.anycable.broadcast.redis_channel; !channel.empty()) {
    adapter->listen_raw_channel(
        channel, [this](std::string_view message) { on_application_publication(message); });
  }
  auto connected = adapter->start(
      [&hub = hub](std::string_view stream, pubsub::Payload payload) {
        hub.deliver(stream, std::move(payload));
      },
      broker_io);
  if (!connected) {
    CC_LOG_ERROR("pub/sub adapter {} could not start: {}", adapter->name(),
                 connected.error().message());
    stop_broker();
    return connected.error();
  }
  return {};
}

void Server::Impl::on_application_publication(std::string_view message) {
  auto body = broadcast::parse_body(message);
  if (!body) {
    if (bad_publications.allow()) {
      CC_LOG_WARN("ignoring a message on Redis channel {} that is not a publication: {}: {}",
                  options.anycable.broadcast.redis_channel, body.error().message(),
                  log::clip(message));
    }
    return;
  }
  server::deliver_body(*body, hub);
}

void Server::Impl::stop_broker() {
  if (!broker_thread.joinable()) return;
  broker_stores.stop();
  adapter->stop();
  broker_work.reset();
  broker_thread.join();
}

Server::~Server() {
  if (impl_->started) {
    stop();
    run();  // joins the loops
  }
}

void Server::add_channel(detail::ChannelClass cls) {
  CABLE_ASSERT(!impl_->started);
  std::string name = cls.name;
  impl_->channels.insert_or_assign(std::move(name), std::move(cls));
}

void Server::on_connect(std::function<ConnectResult(const ConnectionRequest&)> hook) {
  CABLE_ASSERT(!impl_->started);
  impl_->connect = std::move(hook);
}

boost::system::result<void> Server::start() {
  Impl& s = *impl_;
  if (s.started.exchange(true)) return {};
  server::resolve_anycable_secrets(s.options.anycable);
  const ServerOptions& o = s.options;
  if (auto invalid = server::invalid_option(o)) {
    CC_LOG_ERROR("invalid setting: {}", *invalid);
    s.started = false;
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  }

  server::install_signed_stream_channels(o.anycable.streams, s.channels);
  if (!o.anycable.rpc.url.empty() && !s.rpc_backend) {
    auto backend = server::make_rpc_backend(o.anycable.rpc);
    if (!backend) {
      s.started = false;
      return backend.error();
    }
    s.rpc_backend = std::move(*backend);
  }
  s.router_options.cable_path = o.path;
  s.router_options.handshake.allowed_origins = o.allowed_origins;
  s.router_options.static_files = o.static_files;
  s.router_options.broadcast = o.anycable.broadcast;
  s.router_options.max_connections =
      o.max_connections ? o.max_connections : default_max_connections();
  session::SessionLimits session_limits;
  session_limits.max_subscriptions = o.max_subscriptions;
  session_limits.max_commands_per_second = o.max_commands_per_second;

  std::shared_ptr<const ws::TlsContext> tls;
  if (o.tls.enabled()) {
    if (o.tls.certificate_file.empty() || o.tls.private_key_file.empty()) {
      CC_LOG_ERROR("TLS needs both a certificate file and a private key file");
      s.started = false;
      return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    }
    auto loaded = ws::TlsContext::load(
        ws::TlsConfig{o.tls.certificate_file, o.tls.private_key_file, o.tls.min_version});
    if (!loaded) {
      s.started = false;
      return loaded.error();
    }
    tls = std::move(*loaded);
    s.tls_enabled = true;
  }

  ws::ConnectionLimits limits;
  limits.max_message_size = o.max_message_size;
  limits.max_outbound_bytes = o.max_outbound_bytes;
  limits.handshake_timeout = o.handshake_timeout;
  limits.idle_timeout = o.idle_timeout;

  if (s.adapter_error.empty()) {
    auto stores = server::make_broker_stores(o, *s.adapter, s.broker_io);
    if (!stores) {
      s.started = false;
      return stores.error();
    }
    s.broker_stores = std::move(*stores);
    s.hub.set_history(s.broker_stores.history.get(), s.broker_stores.keep_unused_streams);
    if (s.broker_stores.presence) {
      s.broker_stores.presence->start([&adapter = *s.adapter](broker::PresenceEvent event) {
        server::publish_presence_event(adapter, event);
      });
    }
  }
  const session::BrokerEnvironment broker_env = s.broker_stores.environment(o.anycable.extended);

  const core::CpuBudget cpus = core::detect_cpu_budget();
  const unsigned count = o.threads ? o.threads : cpus.count;
  if (o.metrics.enabled) {
    s.metrics_endpoint.emplace(o.metrics.path, [&s] { return s.metrics_text(); });
    if (o.metrics.port == 0) s.router_options.metrics = &*s.metrics_endpoint;
  }
  for (unsigned i = 0; i < count; ++i) {
    s.loops.push_back(std::make_unique<server::Loop>(
        i,
        server::LoopShared{s.channels, s.connect, *s.adapter, s.hub, s.blocking, s.router_options,
                           limits, o.ping_interval, s.open_sessions, session_limits, tls,
                           o.io_uring, s.rpc_backend.get(),
                           lower_case(o.anycable.rpc.forward_headers),
                           session::JwtEnvironment{o.anycable.jwt.secret, o.anycable.jwt.param,
                                                   o.anycable.jwt.enforce},
                           broker_env},
        s.loop_metrics.emplace_back()));
  }
  if (auto broker = s.start_broker(); !broker) {
    for (auto& loop : s.loops) loop->shutdown(std::chrono::steady_clock::now());
    for (auto& loop : s.loops) loop->start();
    for (auto& loop : s.loops) loop->join();
    s.loops.clear();
    s.started = false;
    return broker.error();
  }

  s.health = std::make_unique<server::HealthMonitor>(
      server::HealthOptions{o.health_interval, o.anycable.rpc.url, o.pubsub_wait}, *s.adapter,
      s.hub.shard(0));
  s.health->watch_history(s.broker_stores.history.get());
  s.router_options.health = s.health.get();

  // Bind before the threads start, so errors (port in use, bad host) come back from here.
  error_code ec;
  auto address = asio::ip::make_address(o.host, ec);
  if (ec) {
    CC_LOG_ERROR("invalid --host {}: {}", o.host, ec.message());
    return ec;
  }
  tcp::endpoint endpoint(address, o.port);
  s.acceptor.emplace(s.loops[0]->io());
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(Acceptor::reuse_address(true), ec);
  if (!ec && o.reuse_port) s.acceptor->set_option(ReusePort(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    CC_LOG_ERROR("cannot listen on {}:{}: {}", o.host, o.port, ec.message());
    s.acceptor.reset();
    s.router_options.health = nullptr;
    s.health.reset();  // never started; bound to loop 0's io_context, which goes below
    s.stop_broker();
    for (auto& loop : s.loops) loop->shutdown(std::chrono::steady_clock::now());
    for (auto& loop : s.loops) loop->start();
    for (auto& loop : s.loops) loop->join();
    s.loops.clear();
    s.started = false;
    return ec;
  }
  s.port = s.acceptor->local_endpoint().port();
  if (auto listening = s.start_metrics(); !listening) {
    s.acceptor.reset();
    s.stop_broker();
    for (auto& loop : s.loops) loop->shutdown(std::chrono::steady_clock::now());
    for (auto& loop : s.loops) loop->start();
    for (auto& loop : s.loops) loop->join();
    s.metrics_listener.reset();
    s.loops.clear();
    s.started = false;
    return listening.error();
  }

  if (o.handle_signals) {
    s.signals.emplace(s.loops[0]->io(), SIGINT, SIGTERM);
    s.signals->async_wait([&s](const error_code& e, int signal) { s.on_signal(e, signal); });
    if (tls) {
      s.reload_signal.emplace(s.loops[0]->io(), SIGHUP);
      s.arm_reload_signal();
    }
  }
  s.loops[0]->at_finish([&s] {
    error_code ignored;
    if (s.signals) s.signals->cancel(ignored);
    if (s.reload_signal) s.reload_signal->cancel(ignored);
    if (s.acceptor) s.acceptor->close(ignored);
    if (s.accept_retry) s.accept_retry->cancel();
    if (s.metrics_listener) s.metrics_listener->close();
    s.health->stop();
  });
  // Runs once loop 0 runs; stopped by at_finish above (its timers would keep the loop alive).
  asio::post(s.loops[0]->io(), [&s] {
    s.health->start([&s](std::string reason) {
      CC_LOG_ERROR("{}; stopping", reason);
      s.gave_up = boost::system::errc::make_error_code(boost::system::errc::timed_out);
      s.begin_shutdown(std::chrono::milliseconds(0));
    });
  });
  s.start_accepting(0);
  for (unsigned i = 0; i < count; ++i) {
    if (o.pin_threads && !cpus.cpus.empty()) s.loops[i]->pin_to(cpus.cpus[i % cpus.cpus.size()]);
    s.loops[i]->start();
  }
  if (tls) {
    CC_LOG_INFO("sends: one per connection per loop turn (TLS)");
  } else if (s.loops[0]->batch_sends_active()) {
    CC_LOG_INFO("sends: batched with io_uring, one submission per loop turn");
  } else if (o.io_uring) {
    CC_LOG_WARN("sends: io_uring unavailable ({}): one sendmsg per connection per loop turn",
                s.loops[0]->batch_sends_unavailable());
  } else {
    CC_LOG_INFO("sends: one sendmsg per connection per loop turn (--io-uring=false)");
  }
  if (o.reuse_port) {
    CC_LOG_INFO(
        "port {} shared (SO_REUSEPORT): the kernel spreads new connections over every "
        "process listening on it",
        s.port);
    if (s.adapter->name() == "memory") {
      CC_LOG_WARN(
          "--reuse-port with the memory pub/sub: broadcasts reach only this process's "
          "clients; use --pubsub redis or postgres to join the processes");
    }
  }
  if (!o.anycable.broadcast.key.empty()) {
    CC_LOG_INFO(
        "HTTP broadcasts: POST {} on port {} (Authorization: Bearer <key>), at most {} bytes",
        o.anycable.broadcast.path, s.port, o.anycable.broadcast.max_body_bytes);
  }
  // Last, so that a supervisor or test waiting for "listening" has seen every line above.
  std::string host = endpoint.address().is_v6() ? "[" + o.host + "]" : o.host;
  CC_LOG_INFO("Cablecast listening on {}:{} ({}://{}:{}{}{}), {} event loops ({}{}), pub/sub: {}",
              host, s.port, tls ? "wss" : "ws", host, s.port, o.path,
              tls ? fmt::format(", TLS {}+", tls->min_version()) : "", count,
              o.threads ? "--threads" : cpus.reason, o.pin_threads ? ", pinned" : "",
              s.adapter->name());
  return {};
}

void Server::Impl::start_accepting(std::size_t next_loop) {
  // One acceptor hands sockets round-robin to the loops, so connections spread evenly.
  server::Loop& target = *loops[next_loop % loops.size()];
  acceptor->async_accept(target.io(), [this, next_loop, &target](error_code ec, ws::Socket socket) {
    if (stopping || !acceptor || !acceptor->is_open()) return;
    if (ec) {
      // Out of file descriptors (or similar): pause instead of spinning on the error.
      CC_LOG_WARN("accept failed: {} (retrying in 100 ms)", ec.message());
      accept_retry.emplace(loops[0]->io());
      accept_retry->expires_after(std::chrono::milliseconds(100));
      accept_retry->async_wait([this, next_loop](error_code e) {
        if (!e && !stopping) start_accepting(next_loop);
      });
      return;
    }
    asio::post(target.io(), [&target, socket = std::move(socket)]() mutable {
      target.adopt(std::move(socket));
    });
    start_accepting(next_loop + 1);
  });
}

void Server::Impl::on_signal(const error_code& ec, int signal) {
  if (ec) return;
  if (!stopping) {
    CC_LOG_INFO("received {}: shutting down gracefully (again to force)",
                signal == SIGINT ? "SIGINT" : "SIGTERM");
    begin_shutdown(options.shutdown_timeout);
    signals->async_wait([this](const error_code& e, int s) { on_signal(e, s); });
  } else {
    CC_LOG_WARN("second signal: closing every connection now");
    for (auto& loop : loops) loop->shutdown(std::chrono::steady_clock::now());
  }
}

void Server::Impl::arm_reload_signal() {
  reload_signal->async_wait([this](const error_code& ec, int) {
    if (ec || stopping) return;
    CC_LOG_INFO("received SIGHUP: reloading the TLS certificate and key");
    (void)reload_tls();  // logs its own outcome
    arm_reload_signal();
  });
}

boost::system::result<void> Server::Impl::reload_tls() {
  if (!tls_enabled) {
    CC_LOG_ERROR("cannot reload TLS: the server was not started with a certificate");
    return boost::system::errc::make_error_code(boost::system::errc::operation_not_permitted);
  }
  auto loaded = ws::TlsContext::load(ws::TlsConfig{
      options.tls.certificate_file, options.tls.private_key_file, options.tls.min_version});
  if (!loaded) {
    CC_LOG_ERROR("TLS reload failed: keeping the current certificate");
    return loaded.error();
  }
  std::shared_ptr<const ws::TlsContext> tls = std::move(*loaded);
  for (auto& loop : loops) loop->set_tls(tls);
  CC_LOG_INFO("TLS certificate reloaded from {}", options.tls.certificate_file);
  return {};
}

boost::system::result<void> Server::reload_tls() { return impl_->reload_tls(); }

void Server::Impl::begin_shutdown(std::chrono::milliseconds timeout) {
  if (stopping.exchange(true)) return;
  if (health) health->begin_drain();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::post(loops[0]->io(), [this] {
    error_code ignored;
    if (acceptor) acceptor->close(ignored);
    if (accept_retry) accept_retry->cancel();
  });
  for (auto& loop : loops) loop->shutdown(deadline);
}

boost::system::result<void> Server::run() {
  if (!impl_->started) {
    if (auto r = start(); !r) return r;
  }
  Impl& s = *impl_;
  std::call_once(s.joined, [&s] {
    for (auto& loop : s.loops) loop->join();
    // Loops are done: no more session will subscribe or call; stop the broker side and the
    // RPC client (calls still in flight, such as the last disconnects, are abandoned), then free.
    s.stop_broker();
    if (s.rpc_backend) s.rpc_backend->shutdown();
    if (s.signals) {
      error_code ignored;
      s.signals->cancel(ignored);
    }
    s.blocking.join();
    s.acceptor.reset();
    // Everything bound to loop 0's io_context goes before the loops do.
    s.signals.reset();
    s.reload_signal.reset();
    s.accept_retry.reset();
    s.metrics_listener.reset();
    // Its timers are bound to loop 0's io_context: they go first.
    s.router_options.health = nullptr;
    s.health.reset();
    s.loops.clear();
    CC_LOG_INFO("Cablecast stopped");
  });
  if (s.gave_up) return *s.gave_up;
  return {};
}

void Server::stop() {
  if (!impl_->started) return;
  impl_->begin_shutdown(impl_->options.shutdown_timeout);
}

boost::system::result<void> Server::broadcast(std::string_view broadcasting,
                                              const boost::json::value& message) {
  if (impl_->stopping) {
    return boost::system::errc::make_error_code(boost::system::errc::operation_canceled);
  }
  auto sent = broker::publish(impl_->broker_stores.history.get(), *impl_->adapter, broadcasting,
                              protocol::escape_as_rails(boost::json::serialize(message)));
  if (sent) {
    if (auto* loop = metrics::this_thread_loop_metrics) {
      loop->broadcasts.add(metrics::BroadcastSource::channel);
    } else {
      impl_->off_loop_broadcasts.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return sent;
}

boost::system::result<void> Server::Impl::start_metrics() {
  if (!metrics_endpoint || options.metrics.port == 0) return {};
  metrics_listener = std::make_unique<server::MetricsListener>(loops[0]->io(), *metrics_endpoint);
  auto bound = metrics_listener->listen(options.metrics.host, options.metrics.port);
  if (!bound) {
    CC_LOG_ERROR("cannot listen for metrics on {}:{}: {}", options.metrics.host,
                 options.metrics.port, bound.error().message());
    metrics_listener->close();  // its sweep timer would keep loop 0 running
    return bound.error();
  }
  metrics_port = *bound;
  CC_LOG_INFO("metrics: GET {} on {}:{}", options.metrics.path, options.metrics.host, metrics_port);
  return {};
}

std::string Server::Impl::metrics_text() const {
  std::vector<const metrics::LoopMetrics*> blocks;
  for (const auto& block : loop_metrics) blocks.push_back(&block);
  const pubsub::AdapterHealth link = adapter->health();
  metrics::NodeFigures node;
  node.connections = open_sessions.load(std::memory_order_relaxed);
  node.channel_broadcasts_off_loop = off_loop_broadcasts.load(std::memory_order_relaxed);
  node.pubsub_reconnects = link.reconnects;
  node.pubsub_connected = link.connected;
  auto process = metrics::read_process_metrics();
  if (!process) {
    static std::atomic_flag warned;  // one line, not one per scrape (any thread)
    if (!warned.test_and_set(std::memory_order_relaxed)) {
      CC_LOG_WARN("metrics: process metrics left out, /proc unreadable: {}",
                  process.error().message());
    }
  }
  return metrics::render_node_metrics(blocks, node, process ? &*process : nullptr);
}

std::string Server::metrics_text() const { return impl_->metrics_text(); }
std::uint16_t Server::metrics_port() const { return impl_->metrics_port; }

std::uint16_t Server::port() const { return impl_->port; }
std::size_t Server::connection_count() const { return impl_->open_sessions.load(); }
const ServerOptions& Server::options() const { return impl_->options; }

}  // namespace cablecast
