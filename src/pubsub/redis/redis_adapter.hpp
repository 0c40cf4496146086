#pragma once
// Redis pub/sub, wire-compatible with Rails' redis adapter (Action Cable 6.1+):
// - a broadcast is `PUBLISH <channel> <payload>`, channel = "<channel_prefix>:<broadcasting>"
//   (or the broadcasting itself without a prefix), payload = the broadcast's JSON text;
// - one listener connection SUBSCRIBEs `_action_cable_internal` first, then each stream this
//   node has subscribers for, and UNSUBSCRIBEs when the last local subscriber leaves;
// - a subscription is ready (confirm_subscription) once Redis acknowledged its SUBSCRIBE.
// Faults: a lost connection is retried with capped exponential backoff and every live stream is
// subscribed again; broadcasts meanwhile fail (result, counter, log), never silently.
#include <boost/asio/io_context.hpp>
#include <cablecast/pubsub_options.hpp>
#include <memory>

#include "pubsub/adapter.hpp"
#include "pubsub/factory.hpp"
#include "pubsub/redis/redis_broker.hpp"

namespace cablecast::pubsub::redis {

class RedisAdapter final : public Adapter {
 public:
  explicit RedisAdapter(RedisAdapterOptions options);
  ~RedisAdapter() override;

  // Blocks until both connections are up and authenticated (at most the connect timeout), or
  // returns why not: auth_failed, select_failed (configuration errors). When Redis cannot be
  // reached yet (refused, no answer) it returns success and keeps trying with backoff: health()
  // says why, subscriptions wait for Redis, broadcasts fail until it is up.
  boost::system::result<void> start(DeliverFn deliver, boost::asio::io_context& io) override;
  void subscribe(const std::string& stream, ReadyFn on_ready) override;
  void unsubscribe(const std::string& stream) override;
  // SUBSCRIBEs `channel` as it is, right after _action_cable_internal; start() also waits for it.
  bool listen_raw_channel(std::string channel, RawMessageFn on_message) override;
  // Fails at once (not_connected) while the publisher connection is down; otherwise queues the
  // PUBLISH for the broker loop. A failure Redis reports later is logged and counted.
  boost::system::result<void> publish(std::string_view stream, std::string_view payload) override;
  // Sends what is queued, waits up to shutdown_flush for the PUBLISH replies, closes both
  // connections. Must not be called on the broker loop's thread (it waits for that loop).
  void stop() override;
  std::string_view name() const override { return "redis"; }
  AdapterHealth health() const override;
  void reconnect() override;

  RedisCounters counters() const;
  const RedisAdapterOptions& options() const { return options_; }

 private:
  RedisAdapterOptions options_;
  boost::asio::io_context* io_ = nullptr;
  std::shared_ptr<RedisBroker> broker_;
  bool stopped_ = false;
};

}  // namespace cablecast::pubsub::redis

namespace cablecast::pubsub {

// Parses options.redis_url (a bad one is an error here, before anything connects).
AdapterOrError make_redis_adapter(const PubSubOptions& options);

}  // namespace cablecast::pubsub
