#pragma once
// PostgreSQL LISTEN/NOTIFY, wire-compatible with Rails' postgresql adapter: the same channel
// names (prefix, then SHA1 of names over 63 bytes: see channel_name.hpp) and the same payload
// (the broadcast's JSON text), so Rails processes and Cablecast nodes reach each other's
// subscribers through one database.
//
// Two connections on the broker thread: a listener (LISTEN/UNLISTEN, receives notifications)
// and a publisher (one `SELECT pg_notify(channel, payload)` at a time, in order, so broadcasts
// from this node arrive everywhere in the order they were made). Either one reconnects with
// backoff when it breaks; the listener then LISTENs again to every live channel.
#include <atomic>
#include <cablecast/pubsub_options.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "pubsub/factory.hpp"

namespace cablecast::pubsub {

// Validates the URL (libpq's parser) and builds the adapter; no connection is made yet.
AdapterOrError make_postgres_adapter(const PubSubOptions& options);

namespace postgres {

struct PostgresAdapterOptions {
  std::string conninfo;  // a libpq URI or key=value string, already validated
  std::string channel_prefix;
  std::chrono::milliseconds connect_timeout{5000};
  std::size_t max_queued = 65536;  // broadcasts waiting for PostgreSQL before we refuse more
  std::chrono::milliseconds stop_drain_timeout{2000};  // stop() waits this long for them
};

// What the adapter did, for tests and logs. Monotonic.
struct PostgresCounters {
  std::uint64_t published = 0;         // NOTIFYs PostgreSQL confirmed
  std::uint64_t publish_failures = 0;  // broadcasts refused at once or failed afterwards
  std::uint64_t reconnects = 0;        // connections re-established after a loss
  std::uint64_t received = 0;          // notifications delivered to this node's hub
};

class PostgresAdapter final : public Adapter {
 public:
  explicit PostgresAdapter(PostgresAdapterOptions options);
  ~PostgresAdapter() override;

  // Connects both connections (at most connect_timeout). A refused client (password, role,
  // database) is an error; an unreachable server is not: start() returns, the connections keep
  // trying with backoff, health() says why and subscriptions wait for PostgreSQL.
  boost::system::result<void> start(DeliverFn deliver, boost::asio::io_context& io) override;
  void subscribe(const std::string& stream, ReadyFn on_ready) override;
  void unsubscribe(const std::string& stream) override;
  boost::system::result<void> publish(std::string_view stream, std::string_view payload) override;
  void stop() override;
  std::string_view name() const override { return "postgres"; }
  // Both connections up; otherwise libpq's reason for the last loss or failed attempt.
  AdapterHealth health() const override;
  // Drops both connections; they reconnect with backoff and the listener LISTENs again.
  void reconnect() override;

  PostgresCounters counters() const;

 private:
  class Core;
  std::shared_ptr<Core> core_;
};

}  // namespace postgres
}  // namespace cablecast::pubsub
