#pragma once
// Stream history in Redis Streams (with --pubsub redis), shared by every node: the publishing
// node runs one Lua script that numbers the message, stores it, trims the stream's history and
// PUBLISHes it with its position on the stream's Rails channel, so every node receives the
// stream's messages in offset order, and any node answers history requests. See
// broker/history.hpp for the contract and broker/redis_history_script.hpp for the keys.
//
// One connection of its own on the broker loop (publishes are queued from any thread, as the
// Redis adapter does; queries are posted there and answered on the caller's executor), with
// reconnection and back-off. Needs Redis >= 6.2 (XTRIM MINID, exclusive XRANGE); start() checks.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "broker/history.hpp"
#include "pubsub/redis/loop_handshake.hpp"
#include "pubsub/redis/redis_client.hpp"
#include "pubsub/redis/redis_url.hpp"

namespace cablecast::broker {

struct RedisHistoryCounters {
  std::uint64_t published = 0;         // scripts (or plain PUBLISHes) Redis acknowledged
  std::uint64_t publish_failures = 0;  // refused at once, or lost/refused after being queued
  std::uint64_t reconnects = 0;
};

class RedisHistory final : public History {
 public:
  // `broker_loop`: the server's broker loop (running when start() is called). `channel_prefix`:
  // Rails' channel_prefix, as the Redis adapter's (the stream "s" is published on
  // pubsub::redis::channel_for(prefix, "s")). `key_prefix` starts every key this stores.
  RedisHistory(boost::asio::io_context& broker_loop, pubsub::redis::RedisEndpoint endpoint,
               std::string channel_prefix, HistoryOptions options,
               std::string key_prefix = "cablecast:",
               pubsub::redis::RedisConnectionTuning tuning = {});
  ~RedisHistory() override;
  RedisHistory(const RedisHistory&) = delete;
  RedisHistory& operator=(const RedisHistory&) = delete;

  // Connects, loads the scripts and checks the Redis version; blocks until done (at most the
  // connect timeout). Errors: RedisError::connect_failed, auth_failed, select_failed, timed_out,
  // server_error (Redis older than 6.2, or it refused the scripts). Not on the broker loop.
  boost::system::result<void> start();
  // Sends what is queued, waits (bounded by tuning.shutdown_flush) for the replies, closes.
  // Pending queries are answered `unavailable`. Not on the broker loop's thread. Idempotent.
  void stop();

  // Queued for the broker loop. Errors at once, as the Redis adapter's publish():
  // RedisError::not_connected (reconnecting, or not started), queue_full, stopped. A failure
  // Redis reports later is logged and counted. Transient publications (and all of them when
  // history is off) are plain PUBLISHes of broadcast::to_wire: delivered, never stored.
  boost::system::result<void> publish(std::string_view stream, std::string_view message,
                                      const broadcast::Meta& meta) override;
  // The position the publishing node's script put in the envelope; none for plain payloads.
  std::optional<Position> on_receive(std::string_view stream, std::string_view message,
                                     const broadcast::Meta* meta) override;
  void history_from(std::string stream, Position after, boost::asio::any_io_executor ex,
                    QueryFn done) override;
  void history_since(std::string stream, std::int64_t since, boost::asio::any_io_executor ex,
                     QueryFn done) override;
  std::string_view description() const override { return "redis streams"; }
  bool connected() const override;

  RedisHistoryCounters counters() const;

 private:
  class Store;
  boost::asio::io_context& io_;
  pubsub::redis::LoopLifecycle lifecycle_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds shutdown_flush_;
  std::shared_ptr<Store> store_;
};

}  // namespace cablecast::broker
