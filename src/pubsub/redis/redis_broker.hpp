#pragma once
// The Redis adapter's state on the broker loop: the two connections Rails also uses (a listener
// that SUBSCRIBEs, a publisher that PUBLISHes), the stream table, reconnection with backoff, and
// the queue of broadcasts handed over by other threads.
//
// Threads: publish(), subscribe(), unsubscribe(), counters() and stop_accepting() are called
// from any thread (they touch atomics and a mutex-guarded queue, or post to the broker loop);
// everything else runs on the broker loop only.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pubsub/adapter.hpp"
#include "pubsub/redis/redis_client.hpp"
#include "pubsub/redis/redis_url.hpp"
#include "pubsub/redis/subscription_table.hpp"

struct redisAsyncContext;

namespace cablecast::pubsub::redis {

struct RedisAdapterOptions {
  RedisEndpoint endpoint;
  std::string channel_prefix;  // Rails' channel_prefix; empty = none
  std::string client_name;     // CLIENT SETNAME, Rails: "ActionCable-PID-<pid>"
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds first_retry{100};  // reconnect backoff doubles up to max_retry
  std::chrono::milliseconds max_retry{5000};
  std::chrono::milliseconds shutdown_flush{2000};  // stop() waits this long for PUBLISH replies
  std::size_t max_pending_bytes = 64u << 20;       // broadcasts not yet acknowledged by Redis
  // A channel SUBSCRIBEd by its raw name (no prefix; anycable-rails' "__anycable__") whose
  // messages go to on_raw_message instead of the hub. Empty: none.
  std::string raw_channel;
  RawMessageFn on_raw_message;
};

// What the adapter did, for tests and logs. Monotonic.
struct RedisCounters {
  std::uint64_t published = 0;         // PUBLISH acknowledged by Redis
  std::uint64_t publish_failures = 0;  // refused at once, or lost/refused after being queued
  std::uint64_t reconnects = 0;        // connections re-established after a loss
  std::uint64_t received = 0;          // messages delivered to this node's hub
};

class RedisBroker : public std::enable_shared_from_this<RedisBroker> {
 public:
  RedisBroker(boost::asio::io_context& io, RedisAdapterOptions options, DeliverFn deliver);
  ~RedisBroker();
  RedisBroker(const RedisBroker&) = delete;
  RedisBroker& operator=(const RedisBroker&) = delete;

  // ---- any thread ----
  boost::system::result<void> publish(std::string_view stream, std::string_view payload);
  void subscribe(const std::string& stream, ReadyFn on_ready);
  void unsubscribe(const std::string& stream);
  RedisCounters counters() const;
  // Both connections up, the listener in pub/sub mode; otherwise why not.
  AdapterHealth health() const;
  // Drops both connections and reconnects them as after a loss (the streams are subscribed
  // again): the health canary's answer to a link that looks up but delivers nothing.
  void reconnect();
  // From now on publish() fails with `stopped` and subscribe()/unsubscribe() are ignored.
  void stop_accepting() { accepting_ = false; }

  // ---- broker loop ----
  // Connects both connections; `started` runs once: with {} when both are ready, or with the
  // first error. A configuration error (credentials, database) closes both and nothing is
  // retried; when Redis cannot be reached (is_unreachable) they keep retrying with backoff, and
  // subscriptions made meanwhile wait for Redis.
  void open(std::function<void(boost::system::error_code)> started);
  // Sends what is queued, waits (bounded) for the PUBLISH replies, closes both connections and
  // releases every timer; `done` runs once nothing is left on the loop.
  void close(std::function<void()> done);

 private:
  void on_subscriber_up(bool reconnected);
  void on_publisher_up(bool reconnected);
  // Returns whether to reconnect (not at start-up, where a failure is final, nor when stopping).
  bool on_down(bool subscriber, boost::system::error_code code, const std::string& detail);
  void fail_start(boost::system::error_code code);
  void check_started();
  // Publishes whether both links are ready (linked_), after any change of the three flags.
  void update_link();
  void set_down_reason(std::string reason);

  void do_subscribe(const std::string& stream, ReadyFn on_ready);
  void do_unsubscribe(const std::string& stream);
  void send_subscribe(std::string_view channel);
  void flush_publishes();
  void publish_failed(std::size_t bytes, std::string_view why);

  static void on_subscriber_reply(redisAsyncContext* context, void* reply, void* self);
  static void on_publish_reply(redisAsyncContext* context, void* reply, void* self);

  boost::asio::io_context& io_;
  const RedisAdapterOptions options_;
  DeliverFn deliver_;

  // Broker loop only.
  std::shared_ptr<RedisClient> subscriber_;
  std::shared_ptr<RedisClient> publisher_;
  std::uint64_t failures_at_loss_ = 0;  // publish_failures_ when the publisher went down
  SubscriptionTable table_;
  std::function<void(boost::system::error_code)> started_;  // set while start() waits
  bool listener_ready_ = false;  // _action_cable_internal acknowledged on this connection
  bool raw_ready_ = false;       // raw_channel acknowledged on this connection (or none)
  bool stopping_ = false;
  bool announced_ = false;  // "connected" was logged (once: start-up, or late when Redis came up)
  std::deque<std::size_t> in_flight_bytes_;  // one per PUBLISH sent, replies come in order
  bool failure_logged_ = false;              // one error line per outage, then counting

  // Any thread.
  std::atomic<bool> accepting_{true};
  std::atomic<bool> publisher_up_{false};
  std::atomic<std::size_t> pending_bytes_{0};
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> publish_failures_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<std::uint64_t> received_{0};
  std::atomic<bool> linked_{false};  // listener_ready_ && raw_ready_ && publisher_up_
  mutable std::mutex reason_mutex_;
  std::string down_reason_;  // guarded by reason_mutex_; the last loss or failed attempt

  struct QueuedPublish {
    std::string channel;
    std::string payload;
  };
  std::mutex queue_mutex_;
  std::vector<QueuedPublish> queue_;  // guarded by queue_mutex_
  bool flush_posted_ = false;         // guarded by queue_mutex_
};

}  // namespace cablecast::pubsub::redis
