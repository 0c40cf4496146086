#pragma once
// One named Redis connection that comes back after a loss: a RedisConnection plus its reconnect
// schedule (capped exponential back-off) and the log lines of an outage. Every Redis client of
// the server (the adapter's two connections, the history store, the redisx consumer) has the
// same needs; the owner keeps only what a loss means for it.
//
// The owner decides whether a loss is retried: at start-up a failure is final (a bad URL or
// password does not get better), afterwards the owner calls retry() from its `down` event.
// Everything here runs on the broker loop's thread.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pubsub/redis/redis_connection.hpp"
#include "pubsub/redis/redis_url.hpp"

struct redisAsyncContext;

namespace cablecast::pubsub::redis {

// How a Redis client connects and reconnects; defaults as the adapter's.
struct RedisConnectionTuning {
  std::string client_name;  // CLIENT SETNAME; empty: "cablecast-<role>"
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds first_retry{100};  // reconnect back-off doubles up to max_retry
  std::chrono::milliseconds max_retry{5000};
  std::chrono::milliseconds shutdown_flush{2000};  // stop() waits this long for pending replies
  std::size_t max_pending_bytes = 64u << 20;       // queued commands not yet answered
};

class RedisLink {
 public:
  struct Events {
    // Handshake done; `reconnected` is true when the link had been lost since the last `up`.
    std::function<void(bool reconnected)> up;
    // The connection ended or never came up. The owner resets what depended on it, then calls
    // retry() (or not, at start-up).
    std::function<void(boost::system::error_code code, const std::string& detail)> down;
  };

  // `role` names the connection in logs ("publisher", "history"); `while_down` is appended to
  // the "lost" line, saying what the outage means (" (broadcasts fail until it is back)").
  RedisLink(boost::asio::io_context& io, RedisEndpoint endpoint, std::string role,
            const RedisConnectionTuning& tuning, std::string while_down, Events events);
  ~RedisLink();
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // Connects; `up` or `down` follows.
  void open();
  // After `down`: logs the loss (the first of an outage) or the failed attempt, and opens again
  // after the back-off.
  void retry(boost::system::error_code code, const std::string& detail);
  // Drops the connection at once (pending callbacks get a null reply, no `down`) and goes
  // through retry(): for a connection that answered something it should not have.
  void restart(boost::system::error_code code, const std::string& detail);
  // Stops retrying and frees the connection at once. Idempotent.
  void close();
  // Stops retrying, lets pending replies arrive (bounded by `deadline`), then `done`.
  void close_gracefully(std::chrono::milliseconds deadline, std::function<void()> done);

  // The live context, only while is_up().
  redisAsyncContext* context() const {
    return connection_->is_up() ? connection_->context() : nullptr;
  }
  bool is_up() const { return connection_->is_up(); }
  // Lost after having been up, and not back yet.
  bool reconnecting() const { return lost_; }
  const std::string& role() const { return connection_->role(); }
  const RedisEndpoint& endpoint() const { return endpoint_; }

 private:
  void on_up();

  boost::asio::io_context& io_;
  RedisEndpoint endpoint_;
  std::chrono::milliseconds first_retry_;
  std::chrono::milliseconds max_retry_;
  std::string while_down_;
  Events events_;
  std::shared_ptr<RedisConnection> connection_;
  std::optional<boost::asio::steady_timer> retry_timer_;
  std::chrono::milliseconds next_delay_;
  bool lost_ = false;
  bool closed_ = false;
};

// The "redis_version:x.y.z" line of INFO's text, or "" when there is none.
std::string_view redis_version_line(std::string_view info);
// Whether INFO's text says redis_version >= major.minor.
bool redis_version_at_least(std::string_view info, int major, int minor);

}  // namespace cablecast::pubsub::redis
