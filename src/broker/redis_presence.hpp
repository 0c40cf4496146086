#pragma once
// Presence shared by every node through Redis (keys and scripts: redis_presence_scripts.hpp).
//
// Each node keeps the sessions it hosts that are joined ("live") and refreshes their entries
// every ttl/3, so they never expire while the node lives; expire() stops refreshing one and lets
// it end after the ttl. Every node sweeps about every second with one script that removes what
// is due and reports the ids that lost their last session: each leave (and each join: the
// script says whether the id is new) is produced once, by the node whose script decided it. A
// node killed with SIGKILL stops refreshing, so its entries end after the ttl and another node's
// sweep announces the leaves.
//
// While Redis is unreachable: members() fails at once (RedisError::not_connected); joins, leaves
// and expiries are queued in order (at most max_queued; beyond that they are dropped, counted
// and logged) and sent once it is back, followed at once by a refresh of every live session,
// which also re-adds entries Redis lost (restart without persistence). What was dropped still
// converges: live sessions are re-added by the refresh, and entries no longer refreshed end
// after the ttl.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "broker/presence.hpp"
#include "pubsub/redis/redis_client.hpp"
#include "pubsub/redis/redis_url.hpp"

namespace cablecast::broker {

struct RedisPresenceOptions {
  pubsub::redis::RedisEndpoint endpoint;
  std::string prefix = "cablecast:";  // every key starts with it
  PresenceOptions presence;
  std::chrono::milliseconds sweep_interval{1000};
  std::size_t max_queued = 10000;  // changes kept while Redis is unreachable
  // As every broker store's; an empty client_name is "cablecast-presence".
  pubsub::redis::RedisConnectionTuning connection;
};

class RedisPresence final : public Presence {
 public:
  // `io` is the broker loop, run by one thread: every Redis exchange and every event happen on
  // it. Nothing connects before start().
  RedisPresence(boost::asio::io_context& io, RedisPresenceOptions options);
  ~RedisPresence() override;  // stop()

  // Connects in the background (no wait: while Redis is unreachable it keeps trying, see above).
  // `on_event` runs on the broker loop.
  void start(PresenceEventFn on_event) override;
  void join(const std::string& stream, const std::string& sid, PresenceMember member) override;
  void leave(const std::string& stream, const std::string& sid) override;
  void expire(const std::string& stream, const std::string& sid) override;
  // Fails with RedisError::not_connected while Redis is unreachable, connection_lost when the
  // connection went away before the answer.
  void members(const std::string& stream, boost::asio::any_io_executor ex,
               PresenceInfoFn done) override;
  // Sends what is queued, stops refreshing and sweeping and closes the connection, waiting for it
  // (at most shutdown_flush). Events decided meanwhile still go to `on_event`. This node's live
  // sessions are left to end after the ttl, as if it had died: their clients, reconnecting to
  // another node, join again in time and nobody sees them leave. Call it off the broker loop's
  // thread (on it, the close completes later, without waiting).
  void stop() override;

 private:
  class Impl;
  boost::asio::io_context& io_;
  std::chrono::milliseconds shutdown_flush_;
  std::shared_ptr<Impl> impl_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace cablecast::broker
