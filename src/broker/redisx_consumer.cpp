#include "broker/redisx_consumer.hpp"

#include <hiredis/hiredis.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <optional>
#include <utility>
#include <vector>

#include "broker/history_rules.hpp"
#include "core/assert.hpp"
#include "core/log.hpp"
#include "pubsub/redis/loop_handshake.hpp"
#include "pubsub/redis/redis_client.hpp"
#include "pubsub/redis/redis_error.hpp"

namespace cablecast::broker {

namespace asio = boost::asio;
using boost::system::error_code;
using pubsub::redis::RedisClient;
using pubsub::redis::RedisError;
using Clock = std::chrono::steady_clock;

namespace {

std::string_view text_of(const redisReply* reply) {
  return reply->str ? std::string_view(reply->str, reply->len) : std::string_view{};
}

// Appends the entries of a stream reply ([[id, [field, value, ...]], ...]) to `ids` and
// `payloads` (nullopt: no payload field; entries deleted meanwhile have no fields at all).
void collect(const redisReply* entries, std::vector<std::string>& ids,
             std::vector<std::optional<std::string_view>>& payloads) {
  if (entries->type != REDIS_REPLY_ARRAY) return;
  for (std::size_t i = 0; i < entries->elements; ++i) {
    const redisReply* entry = entries->element[i];
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
    ids.emplace_back(text_of(entry->element[0]));
    std::optional<std::string_view> payload;
    const redisReply* fields = entry->element[1];
    if (fields->type == REDIS_REPLY_ARRAY) {
      for (std::size_t f = 0; f + 1 < fields->elements; f += 2) {
        if (text_of(fields->element[f]) == "payload") payload = text_of(fields->element[f + 1]);
      }
    }
    payloads.push_back(payload);
  }
}

}  // namespace

class RedisxConsumer::Reader : public std::enable_shared_from_this<Reader> {
 public:
  Reader(asio::io_context& io, pubsub::redis::RedisEndpoint endpoint, RedisxOptions options,
         PayloadFn on_payload, pubsub::redis::RedisConnectionTuning tuning)
      : io_(io),
        endpoint_(std::move(endpoint)),
        options_(std::move(options)),
        on_payload_(std::move(on_payload)),
        tuning_(std::move(tuning)) {}

  RedisxCounters counters() const {
    return {delivered_.load(), claimed_.load(), reconnects_.load()};
  }

  void open(std::function<void(error_code)> started) {
    started_ = std::move(started);
    watchdog_.emplace(io_);
    client_ = std::make_shared<RedisClient>(
        io_,
        pubsub::redis::client_options(endpoint_, "redisx", tuning_,
                                      " (publications wait in the stream until it is back)"),
        pubsub::redis::events_for(weak_from_this(), &Reader::on_up, &Reader::on_down));
    client_->open();
  }

  void close(std::function<void()> done) {
    stopping_ = true;
    started_ = nullptr;
    closed_ = std::move(done);
    // A read in flight holds the connection until it returns (at most `block`); what it
    // returns is not delivered and stays pending for another node.
    if (in_flight_ == Step::none) finish();
  }

 private:
  enum class Step { none, setup, claim, read };

  // Sends a command whose reply comes back to `on_reply` (not when this reader is gone).
  bool send(std::initializer_list<std::string_view> args,
            void (Reader::*on_reply)(const redisReply*)) {
    return client_->command(args, [weak = weak_from_this(), on_reply](const redisReply* reply) {
      if (auto self = weak.lock()) ((*self).*on_reply)(reply);
    });
  }

  void on_up(bool reconnected) {
    if (stopping_) return finish();
    if (reconnected) {
      ++reconnects_;
      CC_LOG_INFO("redisx: reconnected to {}; reading stream \"{}\" again", endpoint_.describe(),
                  options_.stream);
    }
    // The version check and the group, pipelined; the read loop starts when both answered.
    setup_pending_ = 2;
    setup_error_.clear();
    send({"INFO", "server"}, &Reader::on_setup_reply);
    create_group();
  }

  void create_group() {
    send({"XGROUP", "CREATE", options_.stream, options_.group, "$", "MKSTREAM"},
         &Reader::on_setup_reply);
    in_flight_ = Step::setup;
  }

  void on_setup_reply(const redisReply* reply) {
    if (reply == nullptr) return;  // the connection went away; `down` says why
    std::string_view text = text_of(reply);
    if (reply->type == REDIS_REPLY_ERROR) {
      // BUSYGROUP: another node (or an earlier life) created it: that is the normal case.
      if (!text.starts_with("BUSYGROUP") && setup_error_.empty()) {
        setup_error_ = "XGROUP CREATE " + options_.stream + ": " + std::string(text);
      }
    } else if (auto version = pubsub::redis::redis_version_line(text);
               !version.empty() && !pubsub::redis::redis_version_at_least(text, 6, 2)) {
      setup_error_ =
          "the redisx consumer needs Redis 6.2 or later; this one has " + std::string(version);
    }
    if (--setup_pending_ == 0) setup_done();
  }

  void setup_done() {
    in_flight_ = Step::none;
    if (stopping_) return finish();
    if (!setup_error_.empty()) {
      CC_LOG_ERROR("redisx on {}: {}", endpoint_.describe(), setup_error_);
      if (started_) {
        client_->close();
        std::exchange(started_, nullptr)(RedisError::server_error);
      } else {
        client_->restart(RedisError::server_error, setup_error_);  // again after the backoff
      }
      return;
    }
    if (started_) {
      CC_LOG_INFO(
          "redisx: reading publications from Redis stream \"{}\" on {} (group \"{}\", consumer "
          "\"{}\")",
          options_.stream, endpoint_.describe(), options_.group, options_.consumer);
      std::exchange(started_, nullptr)(error_code{});
    }
    next_claim_ = Clock::now();  // entries a dead consumer left behind are taken over first
    next();
  }

  bool on_down(error_code code, const std::string& detail) {
    watchdog_->cancel();
    in_flight_ = Step::none;
    if (stopping_) {
      finish();
      return false;
    }
    if (started_) {
      // Not up yet: start() returns and the connection keeps trying (publications wait in the
      // stream). Anything else at start-up is final: the operator must see a bad password at once.
      const bool wait = pubsub::redis::is_unreachable(code);
      if (!wait) {
        CC_LOG_ERROR("redisx connection to {} failed: {} ({})", endpoint_.describe(),
                     code.message(), detail);
      }
      std::exchange(started_, nullptr)(code);
      return wait;
    }
    return true;
  }

  // The next command of the read loop: a claim pass when one is due, else a blocking read.
  void next() {
    if (stopping_) return finish();
    const std::string count = std::to_string(options_.batch);
    bool sent = false;
    if (Clock::now() >= next_claim_) {
      const std::string idle = std::to_string(options_.claim_after.count());
      sent = send({"XAUTOCLAIM", options_.stream, options_.group, options_.consumer, idle,
                   claim_cursor_, "COUNT", count},
                  &Reader::on_claim_reply);
      in_flight_ = Step::claim;
    } else {
      const std::string block = std::to_string(options_.block.count());
      sent = send({"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT", count,
                   "BLOCK", block, "STREAMS", options_.stream, ">"},
                  &Reader::on_read_reply);
      in_flight_ = Step::read;
    }
    if (!sent) {
      in_flight_ = Step::none;  // not up: `down` follows, then `up` starts reading again
      return;
    }
    // A blocking read answers within `block`; silence past that plus the connect timeout
    // means a dead peer that TCP has not noticed yet.
    watchdog_->expires_after(options_.block + tuning_.connect_timeout);
    watchdog_->async_wait([weak = weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->in_flight_ == Step::none) return;
      CC_LOG_WARN("redisx: no answer from {} within {} ms", self->endpoint_.describe(),
                  (self->options_.block + self->tuning_.connect_timeout).count());
      self->in_flight_ = Step::none;
      if (self->stopping_) {
        self->client_->close();
        return self->finish();
      }
      self->client_->restart(RedisError::timed_out, "a read got no answer");
    });
  }

  // XAUTOCLAIM: [next cursor, entries, (Redis 7) ids of entries deleted meanwhile].
  void on_claim_reply(const redisReply* reply) {
    if (!took_reply(reply)) return;
    std::vector<std::string> ids;
    std::vector<std::optional<std::string_view>> payloads;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2) {
      claim_cursor_ = text_of(reply->element[0]);
      collect(reply->element[1], ids, payloads);
    } else {
      claim_cursor_ = "0-0";
    }
    // A full pass ends at cursor 0-0; until then the next batch follows at once.
    if (claim_cursor_ == "0-0") next_claim_ = Clock::now() + options_.claim_after;
    deliver(ids, payloads, true);
    next();
  }

  // XREADGROUP: [[stream, entries]], or nil when the read timed out empty.
  void on_read_reply(const redisReply* reply) {
    if (!took_reply(reply)) return;
    std::vector<std::string> ids;
    std::vector<std::optional<std::string_view>> payloads;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
      const redisReply* stream = reply->element[0];
      if (stream->type == REDIS_REPLY_ARRAY && stream->elements == 2) {
        collect(stream->element[1], ids, payloads);
      }
    }
    deliver(ids, payloads, false);
    next();
  }

  // Common to both replies of the read loop: false when there is nothing more to do with it.
  bool took_reply(const redisReply* reply) {
    if (reply == nullptr) return false;  // the connection went away; `down` follows
    watchdog_->cancel();
    in_flight_ = Step::none;
    if (reply->type != REDIS_REPLY_ERROR) return true;
    std::string_view text = text_of(reply);
    if (text.starts_with("NOGROUP")) {
      // The stream (and its group) went away, e.g. FLUSHALL: create them again and go on.
      CC_LOG_WARN("redisx: group \"{}\" of stream \"{}\" is gone; creating it again",
                  options_.group, options_.stream);
      setup_pending_ = 1;
      setup_error_.clear();
      create_group();
      return false;
    }
    CC_LOG_ERROR("redisx: Redis refused a read of stream \"{}\": {}", options_.stream, text);
    if (stopping_) {
      finish();
    } else {
      client_->restart(RedisError::server_error, std::string(text));
    }
    return false;
  }

  void deliver(const std::vector<std::string>& ids,
               const std::vector<std::optional<std::string_view>>& payloads, bool claimed) {
    if (ids.empty()) return;
    if (stopping_) {
      left_pending_ = true;  // not delivered, not acknowledged: another node claims them
      return;
    }
    for (const auto& payload : payloads) {
      if (!payload) {
        CC_LOG_WARN("redisx: an entry of stream \"{}\" has no payload field; dropped",
                    options_.stream);
        continue;
      }
      ++delivered_;
      if (claimed) ++claimed_;
      on_payload_(*payload);
    }
    // Acknowledged and deleted together (two commands, one write), before the next read. If
    // the connection is lost first, they stay pending and are claimed again later.
    std::vector<std::string_view> args{"XACK", options_.stream, options_.group};
    args.insert(args.end(), ids.begin(), ids.end());
    auto log_error = [](const redisReply* reply) {
      if (reply && reply->type == REDIS_REPLY_ERROR) {
        CC_LOG_ERROR("redisx: acknowledging entries failed: {}", text_of(reply));
      }
    };
    client_->command(args, log_error);
    args.erase(args.begin() + 2);
    args[0] = "XDEL";
    client_->command(args, log_error);
  }

  void finish() {
    if (!closed_) return;
    if (watchdog_) watchdog_->cancel();
    auto done = [weak = weak_from_this(), closed = std::exchange(closed_, nullptr)] {
      if (auto self = weak.lock()) {
        // Timers are bound to the loop (io_context(1): no locking): released here, on it.
        self->client_.reset();
        self->watchdog_.reset();
        auto c = self->counters();
        CC_LOG_INFO("redisx stopped: {} publication(s) delivered ({} claimed), {} reconnect(s)",
                    c.delivered, c.claimed, c.reconnects);
      }
      closed();
    };
    if (!client_) return asio::post(io_, std::move(done));
    // Leaving the group drops the consumer's pending entries for good: only when it has none.
    if (client_->is_up() && !left_pending_) {
      client_->command(
          {"XGROUP", "DELCONSUMER", options_.stream, options_.group, options_.consumer},
          [](const redisReply*) {});
    }
    client_->close_gracefully(tuning_.shutdown_flush, std::move(done));
  }

  asio::io_context& io_;
  const pubsub::redis::RedisEndpoint endpoint_;
  const RedisxOptions options_;
  const PayloadFn on_payload_;
  const pubsub::redis::RedisConnectionTuning tuning_;

  // Broker loop only.
  std::shared_ptr<RedisClient> client_;
  std::function<void(error_code)> started_;  // set while start() waits
  std::function<void()> closed_;             // set by close()
  bool stopping_ = false;
  bool left_pending_ = false;  // stopping: a read returned entries that were not acknowledged
  Step in_flight_ = Step::none;
  int setup_pending_ = 0;
  std::string setup_error_;
  std::string claim_cursor_ = "0-0";
  Clock::time_point next_claim_{};
  std::optional<asio::steady_timer> watchdog_;  // a read's answer is overdue

  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> claimed_{0};
  std::atomic<std::uint64_t> reconnects_{0};
};

// ---------------------------------------------------------------------------- RedisxConsumer

RedisxConsumer::RedisxConsumer(asio::io_context& broker_loop, pubsub::redis::RedisEndpoint endpoint,
                               RedisxOptions options, PayloadFn on_payload,
                               pubsub::redis::RedisConnectionTuning tuning)
    : io_(broker_loop),
      lifecycle_(broker_loop),
      connect_timeout_(tuning.connect_timeout),
      stop_bound_(options.block + tuning.connect_timeout + tuning.shutdown_flush),
      consumer_(options.consumer.empty() ? "cablecast-" + random_token(8) : options.consumer) {
  CABLE_ASSERT(on_payload && options.batch > 0 && options.block.count() > 0);
  options.consumer = consumer_;
  if (tuning.client_name.empty()) tuning.client_name = "cablecast-redisx-" + consumer_;
  reader_ = std::make_shared<Reader>(broker_loop, std::move(endpoint), std::move(options),
                                     std::move(on_payload), std::move(tuning));
}

RedisxConsumer::~RedisxConsumer() = default;

boost::system::result<void> RedisxConsumer::start() {
  return lifecycle_.start(connect_timeout_, "redisx",
                          [reader = reader_](auto done) { reader->open(std::move(done)); });
}

void RedisxConsumer::stop() {
  if (!lifecycle_.begin_stop()) return;
  pubsub::redis::close_on_loop(io_, stop_bound_, "redisx",
                               [reader = reader_](auto done) { reader->close(std::move(done)); });
}

RedisxCounters RedisxConsumer::counters() const { return reader_->counters(); }

}  // namespace cablecast::broker
