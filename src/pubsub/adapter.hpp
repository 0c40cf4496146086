#pragma once
// The pub/sub seam between this node's hub and the broker that connects nodes (memory for one
// process; Redis and PostgreSQL for several). Adapters see only stream names and opaque
// payload bytes (the JSON text of a broadcast), so they can be swapped and share one test suite
// (tests/unit/pubsub/adapter_contract_test.cpp).
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace cablecast::pubsub {

// A broadcast payload: JSON text, shared by every loop that delivers it.
using Payload = std::shared_ptr<const std::string>;

// Where an adapter hands what it receives. Called on any thread; must be cheap (it posts).
using DeliverFn = std::function<void(std::string_view stream, Payload payload)>;

// Called once the broker confirmed a subscription (or failed to). Any thread.
using ReadyFn = std::function<void(boost::system::error_code)>;

// What health checks (/health, /ready) and metrics read of the link to the broker.
struct AdapterHealth {
  bool connected = true;  // every broker connection is up and its subscriptions are live
  std::string reason;     // why not, for /health and /ready, e.g. "redis: Connection refused"
  std::uint64_t reconnects = 0;  // broker connections re-established since start
};

// Takes a message the broker carried on a raw channel of its own (see listen_raw_channel).
// Called on the broker's thread.
using RawMessageFn = std::function<void(std::string_view message)>;

class Adapter {
 public:
  virtual ~Adapter() = default;

  // Connects to the broker and starts delivering received broadcasts to `deliver`. Called once,
  // before anything else, from the thread that starts the server; it may block until the
  // broker answered (bounded by the adapter's connect timeout), so that a bad URL or refused
  // credentials fail the start-up with a clear error. `io` is the server's broker loop: a
  // dedicated thread that runs the adapter's non-blocking I/O, so broker traffic never delays
  // client loops. It is running when start() is called.
  virtual boost::system::result<void> start(DeliverFn deliver, boost::asio::io_context& io) = 0;

  // This node needs `stream`. Every loop that gains its first local subscriber of a stream
  // calls this (so an adapter counts calls per stream and talks to the broker on the first);
  // `on_ready` runs once the broker has confirmed, so a confirmed subscriber misses nothing
  // broadcast afterwards (Rails' rule for confirm_subscription). Thread-safe.
  virtual void subscribe(const std::string& stream, ReadyFn on_ready) = 0;

  // Balances one subscribe() call. Thread-safe.
  virtual void unsubscribe(const std::string& stream) = 0;

  // Sends `payload` to every node's subscribers of `stream`. Thread-safe. An error means the
  // broadcast did not leave this node (never a silent loss).
  virtual boost::system::result<void> publish(std::string_view stream,
                                              std::string_view payload) = 0;

  // Also hands every message published on the broker channel `channel` to `on_message`, for as
  // long as the adapter runs (resubscribed after reconnects): anycable-rails publishes its
  // broadcasts on Redis "__anycable__". `channel` is the broker's own name for it: no channel
  // prefix, not a stream, never delivered to subscribers. Call before start(). Returns false
  // when this broker has no such channels (memory, PostgreSQL): then nothing is listened to.
  virtual bool listen_raw_channel(std::string channel, RawMessageFn on_message) {
    (void)channel;
    (void)on_message;
    return false;
  }

  // The state of the broker link. Any thread; cheap (read on every /health and scrape).
  virtual AdapterHealth health() const { return {}; }

  // The node's health canary (a message it published on a private stream) did not come back:
  // the link is silently broken (a paused broker, a half-open TCP connection). The adapter
  // drops its broker connections and establishes them again, subscriptions included, as after
  // any disconnect. Any thread; returns at once.
  virtual void reconnect() {}

  // Stops delivering and closes broker connections; pending ready callbacks are dropped.
  // Called once at shutdown, from the thread that runs the server, before the broker loop
  // stops; it must leave no work pending on `io`.
  virtual void stop() = 0;

  // For logs and health: "memory", "redis", ...
  virtual std::string_view name() const = 0;
};

}  // namespace cablecast::pubsub
