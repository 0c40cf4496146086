#pragma once
// The session cache in Redis, so a client may come back on any node: save is
// `SET <prefix>session:<sid> <state> EX <ttl>`, take is `GETDEL` (Redis 6.2+), which hands a
// state to one taker only, whichever node asks.
//
// While Redis is unreachable: take() waits at most take_wait for it (a node that has just
// started, or a connection being re-established, answers once it is up) and then answers
// "nothing" (the client starts a fresh session rather than wait on a broker that is down); saves
// are queued (at most max_queued_bytes of states; beyond that dropped and logged) and sent once
// it is back, before the takes that waited.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "broker/session_cache.hpp"
#include "pubsub/redis/redis_client.hpp"
#include "pubsub/redis/redis_url.hpp"

namespace cablecast::broker {

struct RedisSessionCacheOptions {
  pubsub::redis::RedisEndpoint endpoint;
  std::string prefix = "cablecast:";          // keys: <prefix>session:<sid>
  std::size_t max_queued_bytes = 16u << 20;   // saves kept while Redis is unreachable
  std::chrono::milliseconds take_wait{1000};  // how long a take waits for the connection
  // As every broker store's; an empty client_name is "cablecast-sessions".
  pubsub::redis::RedisConnectionTuning connection;
};

class RedisSessionCache final : public SessionCache {
 public:
  // `io` is the broker loop (one thread). Starts connecting at once, in the background.
  RedisSessionCache(boost::asio::io_context& io, RedisSessionCacheOptions options);
  ~RedisSessionCache() override;  // stop()

  void save(const std::string& sid, std::string state, std::chrono::seconds ttl) override;
  void take(const std::string& sid, boost::asio::any_io_executor ex, TakeFn done) override;
  bool outlives_process() const override { return true; }
  // Sends queued saves, then closes the connection, waiting (at most shutdown_flush). Call it
  // off the broker loop's thread (on it, the close completes later, without waiting).
  void stop() override;

 private:
  class Impl;
  boost::asio::io_context& io_;
  std::chrono::milliseconds shutdown_flush_;
  std::shared_ptr<Impl> impl_;
  bool stopped_ = false;
};

}  // namespace cablecast::broker
