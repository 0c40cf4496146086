#include "pubsub/postgres/postgres_adapter.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <optional>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "pubsub/postgres/channel_name.hpp"
#include "pubsub/postgres/conninfo.hpp"
#include "pubsub/postgres/listen_registry.hpp"
#include "pubsub/postgres/postgres_connection.hpp"
#include "pubsub/postgres/postgres_error.hpp"
#include "pubsub/reconnect_backoff.hpp"

namespace cablecast::pubsub {

AdapterOrError make_postgres_adapter(const PubSubOptions& options) {
  if (auto error = postgres::validate_conninfo(options.postgres_url); !error.empty()) {
    return {nullptr, error};
  }
  postgres::PostgresAdapterOptions settings;
  settings.conninfo = options.postgres_url;
  settings.channel_prefix = options.channel_prefix;
  return {std::make_unique<postgres::PostgresAdapter>(std::move(settings)), {}};
}

namespace postgres {

namespace asio = boost::asio;
using boost::system::error_code;
using Outcome = PostgresConnection::Outcome;

// Everything the broker thread touches, shared with the handlers in flight so that none of them
// outlives what it uses. Members under "any thread" are atomics read by publish() and counters().
class PostgresAdapter::Core : public std::enable_shared_from_this<Core> {
 public:
  explicit Core(PostgresAdapterOptions s) : settings(std::move(s)) {}

  // --- broker thread ---
  void begin_start(std::shared_ptr<std::promise<error_code>> done);
  void do_subscribe(const std::string& stream, ReadyFn on_ready);
  void do_unsubscribe(const std::string& stream);
  void do_publish(std::string channel, std::string payload);
  void begin_stop(std::function<void()> finished);
  void drop_connections();

  PostgresAdapterOptions settings;
  asio::io_context* io = nullptr;

  // --- any thread ---
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  std::atomic<bool> publisher_up{false};
  std::atomic<bool> outage_logged{false};
  std::atomic<std::size_t> queued{0};  // broadcasts accepted by publish() and not yet answered
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> publish_failures{0};
  std::atomic<std::uint64_t> refused_while_down{0};
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> received{0};  // notifications delivered to this node's hub
  std::atomic<bool> listener_up{false};
  mutable std::mutex reason_mutex;
  std::string down_reason;  // guarded by reason_mutex: the last loss or failed attempt

 private:
  void on_up(PostgresConnection& connection);
  void on_down(PostgresConnection& connection, const std::string& why, bool was_up);
  void start_step(const std::string& role, const std::string& why);
  void schedule_reconnect(PostgresConnection& connection);
  void send_listen(const ListenRegistry::Listen& listen);
  void on_notify(std::string_view channel, std::string_view payload);
  void on_notified(const std::string& channel, Outcome outcome, std::string_view error);
  void finish_stop(std::function<void()> finished);
  PostgresConnection::Events events_for(const char* role);

  DeliverFn deliver_;
  std::shared_ptr<PostgresConnection> listener_;
  std::shared_ptr<PostgresConnection> publisher_;
  std::optional<asio::steady_timer> listener_retry_;
  std::optional<asio::steady_timer> publisher_retry_;
  std::optional<asio::steady_timer> drain_timer_;
  ReconnectBackoff listener_backoff_;
  ReconnectBackoff publisher_backoff_;
  ListenRegistry registry_;
  std::shared_ptr<std::promise<error_code>> start_done_;  // set while start() waits
  int start_pending_ = 0;
  bool listener_was_up_ = false;  // an up of a connection that had been up is a reconnect
  bool publisher_was_up_ = false;
  bool closing_ = false;              // begin_stop ran: refuse new work
  std::function<void()> on_drained_;  // stop() waits for the publisher queue to empty
  std::uint64_t unconfirmed_ = 0;     // lost broadcasts not logged yet
  std::string unconfirmed_reason_;
  friend class PostgresAdapter;
};

PostgresConnection::Events PostgresAdapter::Core::events_for(const char* role) {
  std::weak_ptr<Core> weak = weak_from_this();
  bool listener = std::string_view(role) == "listener";
  PostgresConnection::Events events;
  events.up = [weak, listener] {
    if (auto core = weak.lock()) core->on_up(listener ? *core->listener_ : *core->publisher_);
  };
  events.down = [weak, listener](const std::string& why, bool was_up) {
    if (auto core = weak.lock()) {
      core->on_down(listener ? *core->listener_ : *core->publisher_, why, was_up);
    }
  };
  events.notify = [weak](std::string_view channel, std::string_view payload) {
    if (auto core = weak.lock()) core->on_notify(channel, payload);
  };
  return events;
}

void PostgresAdapter::Core::begin_start(std::shared_ptr<std::promise<error_code>> done) {
  listener_retry_.emplace(*io);
  publisher_retry_.emplace(*io);
  drain_timer_.emplace(*io);
  listener_ = std::make_shared<PostgresConnection>(*io, "listener", settings.conninfo,
                                                   events_for("listener"));
  publisher_ = std::make_shared<PostgresConnection>(*io, "publisher", settings.conninfo,
                                                    events_for("publisher"));
  start_done_ = std::move(done);
  start_pending_ = 2;
  CC_LOG_INFO("pub/sub postgres: connecting to {}", describe_conninfo(settings.conninfo));
  listener_->connect(settings.connect_timeout);
  if (start_pending_ > 0) publisher_->connect(settings.connect_timeout);
}

// One of the two start-up connections answered; start() returns once both are up or at the
// first failure (which closes the other: a node that cannot reach its broker does not start).
void PostgresAdapter::Core::start_step(const std::string& role, const std::string& why) {
  if (!why.empty() && !is_configuration_error(why)) {
    // Not up yet (an orchestrator starts everything at once): serve, say why in /ready and
    // /health, and keep trying; subscriptions wait in the registry for the listener.
    CC_LOG_WARN("pub/sub postgres: {} is not reachable yet ({}: {}); retrying with backoff",
                describe_conninfo(settings.conninfo), role, why);
    start_pending_ = 0;
    auto done = std::move(start_done_);
    done->set_value({});
    for (PostgresConnection* c : {listener_.get(), publisher_.get()}) {
      if (!c->is_up() && !c->connecting()) schedule_reconnect(*c);
    }
    return;
  }
  if (!why.empty()) {
    CC_LOG_ERROR("pub/sub postgres: cannot connect the {} to {}: {}", role,
                 describe_conninfo(settings.conninfo), why);
    start_pending_ = 0;
    listener_->close();
    publisher_->close();
    publisher_up = false;
    auto done = std::move(start_done_);
    done->set_value(make_error_code(PostgresError::connect_failed));
    return;
  }
  if (--start_pending_ == 0) {
    CC_LOG_INFO("pub/sub postgres: connected (listener and publisher)");
    auto done = std::move(start_done_);
    done->set_value({});
  }
}

void PostgresAdapter::Core::on_up(PostgresConnection& connection) {
  bool is_listener = &connection == listener_.get();
  (is_listener ? listener_backoff_ : publisher_backoff_).reset();
  if (is_listener) {
    listener_up = true;
    auto listens = registry_.relisten_all();
    if (std::exchange(listener_was_up_, true)) {
      ++reconnects;
      CC_LOG_WARN("pub/sub postgres: listener reconnected; LISTEN again on {} channel(s)",
                  listens.size());
    }
    for (const auto& listen : listens) send_listen(listen);
  } else {
    publisher_up = true;
    if (std::exchange(publisher_was_up_, true)) {
      ++reconnects;
      CC_LOG_WARN(
          "pub/sub postgres: publisher reconnected; {} broadcast(s) were refused while it was "
          "down",
          refused_while_down.exchange(0));
    }
    outage_logged = false;
  }
  if (start_pending_ > 0) start_step(connection.role(), {});
}

void PostgresAdapter::Core::on_down(PostgresConnection& connection, const std::string& why,
                                    bool was_up) {
  if (closing_) return;
  bool is_listener = &connection == listener_.get();
  (is_listener ? listener_up : publisher_up) = false;
  {
    std::lock_guard lock(reason_mutex);
    down_reason = fmt::format("postgres {} connection to {}: {}", connection.role(),
                              describe_conninfo(settings.conninfo), why);
  }
  if (start_pending_ > 0) return start_step(connection.role(), why);
  if (is_listener) registry_.connection_lost();
  if (was_up) {
    CC_LOG_WARN("pub/sub postgres: {} connection lost ({}); reconnecting{}", connection.role(), why,
                is_listener
                    ? fmt::format(", then LISTEN again on {} channel(s)", registry_.channel_count())
                    : std::string(", broadcasts fail until then"));
  } else {
    CC_LOG_WARN("pub/sub postgres: {} could not reconnect: {}", connection.role(), why);
  }
  schedule_reconnect(connection);
}

void PostgresAdapter::Core::schedule_reconnect(PostgresConnection& connection) {
  bool is_listener = &connection == listener_.get();
  auto delay = (is_listener ? listener_backoff_ : publisher_backoff_).next();
  auto& timer = is_listener ? *listener_retry_ : *publisher_retry_;
  CC_LOG_INFO("pub/sub postgres: next {} connection attempt in {} ms", connection.role(),
              delay.count());
  timer.expires_after(delay);
  timer.async_wait([weak = weak_from_this(), is_listener](error_code ec) {
    auto core = weak.lock();
    if (ec || !core || core->closing_) return;
    auto& c = is_listener ? *core->listener_ : *core->publisher_;
    if (!c.is_up() && !c.connecting()) c.connect(core->settings.connect_timeout);
  });
}

void PostgresAdapter::Core::do_subscribe(const std::string& stream, ReadyFn on_ready) {
  if (closing_) return;  // shutting down: pending ready callbacks are dropped
  std::string channel = channel_for(settings.channel_prefix, stream);
  error_code refuse;
  if (stream.find('\0') != std::string::npos) refuse = PostgresError::nul_byte;
  if (channel.empty()) refuse = PostgresError::empty_channel;
  if (refuse)
    CC_LOG_ERROR("pub/sub postgres: cannot LISTEN for stream {}: {}", log::clip(stream),
                 refuse.message());
  auto listen = registry_.add(channel, stream, std::move(on_ready), refuse);
  if (listen && listener_->is_up()) send_listen(*listen);
  // Not up: the LISTEN is sent by relisten_all() once the listener is back.
}

void PostgresAdapter::Core::send_listen(const ListenRegistry::Listen& listen) {
  listener_->query(
      "LISTEN " + quote_identifier(listen.channel), {},
      [weak = weak_from_this(), listen](Outcome outcome, std::string_view error) {
        auto core = weak.lock();
        if (!core || core->closing_) return;
        if (outcome == Outcome::lost) return;  // the reconnect LISTENs again
        if (outcome == Outcome::failed) {
          CC_LOG_ERROR("pub/sub postgres: LISTEN {} failed: {}", log::clip(listen.channel), error);
        } else {
          CC_LOG_DEBUG("pub/sub postgres: listening on {}", log::clip(listen.channel));
        }
        core->registry_.listened(
            listen.channel, listen.generation,
            outcome == Outcome::ok ? error_code{} : make_error_code(PostgresError::listen_failed));
      });
}

void PostgresAdapter::Core::do_unsubscribe(const std::string& stream) {
  if (closing_) return;
  std::string channel = channel_for(settings.channel_prefix, stream);
  if (!registry_.remove(channel, stream) || !listener_->is_up()) return;
  listener_->query("UNLISTEN " + quote_identifier(channel), {},
                   [channel](Outcome outcome, std::string_view error) {
                     if (outcome == Outcome::failed) {
                       CC_LOG_WARN("pub/sub postgres: UNLISTEN {} failed: {}", log::clip(channel),
                                   error);
                     }
                   });
}

void PostgresAdapter::Core::on_notify(std::string_view channel, std::string_view payload) {
  if (closing_) return;
  const auto* streams = registry_.streams(std::string(channel));
  if (streams == nullptr) return;  // UNLISTEN under way
  auto shared = std::make_shared<const std::string>(payload);
  received.fetch_add(1, std::memory_order_relaxed);
  for (const auto& s : *streams) deliver_(s.stream, shared);
}

void PostgresAdapter::Core::do_publish(std::string channel, std::string payload) {
  if (closing_ || !publisher_->is_up()) {
    // The connection broke between publish() and now.
    on_notified(channel, Outcome::lost, closing_ ? "the adapter is stopping" : "not connected");
    return;
  }
  std::vector<std::string> params{channel, std::move(payload)};
  // pg_notify(channel, payload) is NOTIFY with bind parameters: the same notification Rails'
  // `NOTIFY "<channel>", '<escaped payload>'` sends, without building SQL from the payload.
  publisher_->query("SELECT pg_notify($1, $2)", std::move(params),
                    [weak = weak_from_this(), channel](Outcome outcome, std::string_view error) {
                      if (auto core = weak.lock()) core->on_notified(channel, outcome, error);
                    });
}

void PostgresAdapter::Core::on_notified(const std::string& channel, Outcome outcome,
                                        std::string_view error) {
  --queued;
  if (outcome == Outcome::ok) {
    ++published;
  } else {
    ++publish_failures;
    if (outcome == Outcome::failed) {
      CC_LOG_ERROR("pub/sub postgres: PostgreSQL refused the broadcast to channel {}: {}",
                   log::clip(channel), error);
    } else if (unconfirmed_++ == 0) {
      // A broken connection fails everything queued at once: one line per loop turn, not one
      // per broadcast.
      unconfirmed_reason_ = std::string(error);
      asio::post(*io, [self = shared_from_this(), channel] {
        CC_LOG_ERROR(
            "pub/sub postgres: {} broadcast(s) (first to channel {}) failed: {}; PostgreSQL did "
            "not confirm them, so they may not have been delivered",
            self->unconfirmed_, log::clip(channel), self->unconfirmed_reason_);
        self->unconfirmed_ = 0;
      });
    }
  }
  if (on_drained_ && publisher_ && publisher_->queued() == 0) {
    auto drained = std::move(on_drained_);
    on_drained_ = nullptr;
    drained();
  }
}

void PostgresAdapter::Core::begin_stop(std::function<void()> finished) {
  closing_ = true;
  if (!listener_) {  // start() never reached the broker thread
    if (finished) asio::post(*io, std::move(finished));
    return;
  }
  listener_retry_->cancel();
  publisher_retry_->cancel();
  listener_->close();
  registry_.clear();
  // `cablecast broadcast` publishes and stops at once: let queued NOTIFYs reach PostgreSQL.
  if (publisher_->is_up() && publisher_->queued() > 0) {
    auto self = shared_from_this();
    on_drained_ = [self, finished] { self->finish_stop(finished); };
    drain_timer_->expires_after(settings.stop_drain_timeout);
    drain_timer_->async_wait([self](error_code ec) {
      if (ec || !self->on_drained_) return;
      auto drained = std::move(self->on_drained_);
      self->on_drained_ = nullptr;
      drained();
    });
    return;
  }
  finish_stop(std::move(finished));
}

void PostgresAdapter::Core::finish_stop(std::function<void()> finished) {
  drain_timer_->cancel();
  publisher_->close();  // whatever is still queued is counted as failed
  publisher_up = false;
  CC_LOG_INFO("pub/sub postgres: stopped ({} broadcast(s) sent, {} failed, {} reconnect(s))",
              published.load(), publish_failures.load(), reconnects.load());
  // Drop every Asio object now, on the broker thread, while the io_context is alive: the adapter
  // itself may be destroyed after it. Their cancelled handlers are already queued, so the
  // `finished` posted below runs after them: nothing of ours is left on the io_context.
  listener_retry_.reset();
  publisher_retry_.reset();
  drain_timer_.reset();
  listener_.reset();
  publisher_.reset();
  deliver_ = nullptr;
  if (finished) asio::post(*io, std::move(finished));
}

// ---------------------------------------------------------------------------------------------

PostgresAdapter::PostgresAdapter(PostgresAdapterOptions options)
    : core_(std::make_shared<Core>(std::move(options))) {}

PostgresAdapter::~PostgresAdapter() {
  // The server (and `cablecast broadcast`) call stop() before destroying the adapter; a started
  // adapter that was not stopped would leave connections on a loop that may be gone.
  CABLE_ASSERT(!core_->started || core_->stopped);
}

boost::system::result<void> PostgresAdapter::start(DeliverFn deliver, asio::io_context& io) {
  CABLE_ASSERT(!core_->started && !io.get_executor().running_in_this_thread());
  // Written before `started` is published: publish() reads `io` once it sees `started`.
  core_->io = &io;
  core_->deliver_ = std::move(deliver);
  core_->started = true;
  auto done = std::make_shared<std::promise<error_code>>();
  auto result = done->get_future();
  asio::post(io, [core = core_, done] { core->begin_start(done); });
  // Each connection attempt is bounded by connect_timeout; the margin covers a busy loop.
  auto limit = core_->settings.connect_timeout + std::chrono::seconds(2);
  if (result.wait_for(limit) != std::future_status::ready) {
    CC_LOG_ERROR("pub/sub postgres: no answer from the broker thread within {} ms", limit.count());
    return make_error_code(PostgresError::connect_failed);
  }
  error_code ec = result.get();
  if (ec) return ec;
  return {};
}

void PostgresAdapter::subscribe(const std::string& stream, ReadyFn on_ready) {
  if (!core_->started || core_->stopped) return;
  asio::post(*core_->io, [core = core_, stream, on_ready = std::move(on_ready)]() mutable {
    core->do_subscribe(stream, std::move(on_ready));
  });
}

void PostgresAdapter::unsubscribe(const std::string& stream) {
  if (!core_->started || core_->stopped) return;
  asio::post(*core_->io, [core = core_, stream] { core->do_unsubscribe(stream); });
}

boost::system::result<void> PostgresAdapter::publish(std::string_view stream,
                                                     std::string_view payload) {
  Core& c = *core_;
  auto refuse = [&c](PostgresError why) {
    ++c.publish_failures;
    return make_error_code(why);
  };
  if (!c.started || c.stopped) return refuse(PostgresError::stopped);
  if (payload.size() > kMaxPayloadBytes) {
    CC_LOG_ERROR(
        "pub/sub postgres: broadcast to {} refused: its payload is {} bytes, PostgreSQL NOTIFY "
        "payloads must be shorter than 8000 bytes",
        log::clip(stream), payload.size());
    return refuse(PostgresError::payload_too_large);
  }
  if (stream.find('\0') != std::string_view::npos || payload.find('\0') != std::string_view::npos) {
    return refuse(PostgresError::nul_byte);
  }
  std::string channel = channel_for(c.settings.channel_prefix, stream);
  if (channel.empty()) return refuse(PostgresError::empty_channel);
  if (!c.publisher_up) {
    ++c.refused_while_down;
    if (!c.outage_logged.exchange(true)) {
      CC_LOG_ERROR(
          "pub/sub postgres: broadcast to {} refused: the publisher connection is down; "
          "broadcasts fail until it is back (counted, summarised on reconnect)",
          log::clip(stream));
    }
    return refuse(PostgresError::not_connected);
  }
  if (c.queued.fetch_add(1) >= c.settings.max_queued) {
    --c.queued;
    return refuse(PostgresError::queue_full);
  }
  asio::post(*c.io, [core = core_, channel = std::move(channel),
                     payload = std::string(payload)]() mutable {
    core->do_publish(std::move(channel), std::move(payload));
  });
  return {};
}

void PostgresAdapter::stop() {
  Core& c = *core_;
  if (!c.started || c.stopped.exchange(true)) return;
  if (c.io->get_executor().running_in_this_thread()) {
    c.begin_stop(nullptr);
    return;
  }
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  asio::post(*c.io, [core = core_, done] { core->begin_stop([done] { done->set_value(); }); });
  finished.wait();
}

void PostgresAdapter::Core::drop_connections() {
  if (closing_ || start_pending_ > 0 || !listener_) return;
  CC_LOG_WARN(
      "pub/sub postgres: reconnecting both connections: the health canary did not come back");
  listener_->drop("the health canary did not come back");
  publisher_->drop("the health canary did not come back");
}

AdapterHealth PostgresAdapter::health() const {
  const Core& c = *core_;
  AdapterHealth health;
  health.reconnects = c.reconnects.load(std::memory_order_relaxed);
  if (!c.started || c.stopped) return {false, "postgres: not started", health.reconnects};
  health.connected = c.listener_up && c.publisher_up;
  if (!health.connected) {
    std::lock_guard lock(c.reason_mutex);
    health.reason = c.down_reason.empty() ? "postgres: connecting" : c.down_reason;
  }
  return health;
}

void PostgresAdapter::reconnect() {
  if (!core_->started || core_->stopped) return;
  asio::post(*core_->io, [core = core_] { core->drop_connections(); });
}

PostgresCounters PostgresAdapter::counters() const {
  return {core_->published.load(), core_->publish_failures.load(), core_->reconnects.load(),
          core_->received.load()};
}

}  // namespace postgres
}  // namespace cablecast::pubsub
