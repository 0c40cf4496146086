#pragma once
// Reads the publications anycable-rails' `redisx` broadcast adapter appends to a Redis Stream
// (`XADD __anycable__ * payload '<publication json>'`) as one consumer of a consumer group, the
// way AnyCable's nodes do: each publication is handed to exactly one node, which publishes it
// through History::publish so that every node delivers it once, with its position.
//
// - The group (AnyCable's name: "bx") is created at the stream's end if missing (MKSTREAM);
//   each process is one consumer with a random name.
// - XREADGROUP ... BLOCK holds the connection, so the consumer has its own connection on the
//   broker loop, reconnected with back-off.
// - Each entry is XACKed and XDELed after `on_payload` ran (that is how the stream stays
//   short, as in AnyCable). A node that dies between receiving and acknowledging leaves entries
//   pending: every consumer periodically takes over (XAUTOCLAIM) entries pending for longer than
//   `claim_after`, so they are delivered by a live node (at least once, in that case).
// - On stop, the consumer leaves the group (XGROUP DELCONSUMER) when nothing of its own is
//   pending; otherwise it stays, and another node claims its entries.
// Needs Redis >= 6.2 (XAUTOCLAIM); start() checks.
#include <boost/asio/io_context.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "pubsub/redis/loop_handshake.hpp"
#include "pubsub/redis/redis_client.hpp"
#include "pubsub/redis/redis_url.hpp"

namespace cablecast::broker {

struct RedisxOptions {
  std::string stream = "__anycable__";    // --redis-broadcast-channel
  std::string group = "bx";               // AnyCable's group: nodes of both kinds may share it
  std::string consumer;                   // empty: "cablecast-" + 8 random characters
  std::chrono::milliseconds block{2000};  // how long one XREADGROUP waits
  std::chrono::milliseconds claim_after{5000};  // pending this long: its consumer is gone
  std::size_t batch = 100;                      // entries per read
};

// Takes one publication's JSON text (broadcast::parse_body's input). Runs on the broker loop.
using PayloadFn = std::function<void(std::string_view payload)>;

struct RedisxCounters {
  std::uint64_t delivered = 0;  // payloads handed to on_payload
  std::uint64_t claimed = 0;    // of which taken over from another (or an earlier) consumer
  std::uint64_t reconnects = 0;
};

class RedisxConsumer {
 public:
  RedisxConsumer(boost::asio::io_context& broker_loop, pubsub::redis::RedisEndpoint endpoint,
                 RedisxOptions options, PayloadFn on_payload,
                 pubsub::redis::RedisConnectionTuning tuning = {});
  ~RedisxConsumer();
  RedisxConsumer(const RedisxConsumer&) = delete;
  RedisxConsumer& operator=(const RedisxConsumer&) = delete;

  // Connects, checks the Redis version and creates the group; blocks until done (at most the
  // connect timeout), then reads until stop(). Errors: RedisError::connect_failed, auth_failed,
  // select_failed, timed_out, server_error (Redis older than 6.2; the key is not a stream).
  // Not on the broker loop's thread.
  boost::system::result<void> start();
  // Waits for the read in progress (at most `block`), hands nothing more to on_payload, leaves
  // the group when nothing is pending, closes. Not on the broker loop's thread. Idempotent.
  void stop();

  const std::string& consumer_name() const { return consumer_; }
  RedisxCounters counters() const;

 private:
  class Reader;
  boost::asio::io_context& io_;
  pubsub::redis::LoopLifecycle lifecycle_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds stop_bound_;
  std::string consumer_;
  std::shared_ptr<Reader> reader_;
};

}  // namespace cablecast::broker
