#include "broker/redis_history.hpp"

#include <hiredis/hiredis.h>

#include <boost/asio/post.hpp>
#include <charconv>
#include <future>
#include <optional>
#include <utility>
#include <vector>

#include "broadcast/envelope.hpp"
#include "broker/history_rules.hpp"
#include "broker/redis_history_script.hpp"
#include "core/assert.hpp"
#include "core/log.hpp"
#include "pubsub/redis/channel_name.hpp"
#include "pubsub/redis/handoff_queue.hpp"
#include "pubsub/redis/loop_handshake.hpp"
#include "pubsub/redis/redis_client.hpp"
#include "pubsub/redis/redis_error.hpp"

namespace cablecast::broker {

namespace asio = boost::asio;
namespace script = redis_history;
using boost::system::error_code;
using pubsub::redis::RedisClient;
using pubsub::redis::RedisError;

namespace {

std::string_view text_of(const redisReply* reply) {
  return reply->str ? std::string_view(reply->str, reply->len) : std::string_view{};
}

template <typename Number>
std::optional<Number> number_in(std::string_view text) {
  Number value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{}) return std::nullopt;
  return value;
}

// A publication on its way to Redis: the script's arguments, or a plain PUBLISH payload.
struct Outgoing {
  std::string stream;
  std::string message;  // plain: the whole wire payload
  std::string head;     // the envelope head (script only)
  bool plain = false;
  bool by_body = false;  // sent with EVAL after a NOSCRIPT
  std::size_t bytes = 0;
};

}  // namespace

// The state on the broker loop; publish() and the counters are also used from any thread.
class RedisHistory::Store : public std::enable_shared_from_this<Store> {
 public:
  Store(asio::io_context& io, pubsub::redis::RedisEndpoint endpoint, std::string channel_prefix,
        HistoryOptions options, std::string key_prefix, pubsub::redis::RedisConnectionTuning tuning)
      : io_(io),
        endpoint_(std::move(endpoint)),
        channel_prefix_(std::move(channel_prefix)),
        options_(options),
        key_prefix_(std::move(key_prefix)),
        tuning_(std::move(tuning)),
        limit_(std::to_string(options.limit)),
        ttl_(std::to_string(options.ttl.count())),
        append_sha_(script::script_sha1(script::kAppendScript)),
        query_sha_(script::script_sha1(script::kQueryScript)) {
    CABLE_ASSERT(options_.limit == 0 || options_.ttl.count() > 0);
  }

  // A history request; the store on the broker loop while it is in Redis.
  struct Query {
    std::string stream;
    std::optional<Position> after;  // history_from; else history_since
    std::int64_t since = 0;
    asio::any_io_executor ex;
    QueryFn done;
    bool by_body = false;  // sent with EVAL after a NOSCRIPT

    void answer(boost::system::result<Slice> result) {
      asio::post(ex, [done = std::move(done), result = std::move(result)]() mutable {
        done(std::move(result));
      });
    }
  };

  // ---- any thread ----
  boost::system::result<void> publish(std::string_view stream, std::string_view message,
                                      const broadcast::Meta& meta);
  void query(Query query);
  RedisHistoryCounters counters() const {
    return {published_.load(), failures_.load(), reconnects_.load()};
  }
  void stop_accepting() { accepting_ = false; }

  // Any thread: the connection is up and set up (publications go out).
  bool up() const { return up_.load(); }

  // ---- broker loop ----
  void open(std::function<void(error_code)> started);
  void close(std::function<void()> done);

 private:
  void on_up(bool reconnected);
  bool on_down(error_code code, const std::string& detail);
  void on_handshake_reply(const redisReply* reply);
  void flush();
  void send(Outgoing item);
  void on_publish_reply(const redisReply* reply, Outgoing& item);
  void send_query(Query query);
  void on_query_reply(const redisReply* reply, Query& query);
  void failed(std::size_t bytes, std::string_view why);

  asio::io_context& io_;
  const pubsub::redis::RedisEndpoint endpoint_;
  const std::string channel_prefix_;
  const HistoryOptions options_;
  const std::string key_prefix_;
  const pubsub::redis::RedisConnectionTuning tuning_;
  const std::string limit_, ttl_;  // script arguments
  const std::string append_sha_, query_sha_;

  // Broker loop only.
  std::shared_ptr<RedisClient> client_;
  std::function<void(error_code)> started_;  // set while start() waits
  int handshake_pending_ = 0;
  bool reconnected_ = false;  // the handshake in progress follows a loss
  error_code handshake_error_;
  std::string handshake_detail_;
  bool stopping_ = false;
  bool failure_logged_ = false;  // one error line per outage, then counting
  std::uint64_t failures_at_loss_ = 0;

  // Any thread.
  std::atomic<bool> accepting_{true};
  std::atomic<bool> up_{false};
  std::atomic<std::size_t> pending_bytes_{0};
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  pubsub::redis::HandoffQueue<Outgoing> queue_;
};

// ---------------------------------------------------------------------------- any thread

boost::system::result<void> RedisHistory::Store::publish(std::string_view stream,
                                                         std::string_view message,
                                                         const broadcast::Meta& meta) {
  if (!accepting_) return RedisError::stopped;
  if (!up_) {
    ++failures_;
    return RedisError::not_connected;
  }
  Outgoing item;
  item.stream = stream;
  item.plain = meta.transient || options_.limit == 0;
  if (item.plain) {
    item.message = broadcast::to_wire({std::string(stream), std::string(message), meta});
  } else {
    item.message = message;
    item.head = script::envelope_head(meta);
  }
  item.bytes = item.stream.size() + item.message.size() + item.head.size();
  if (pending_bytes_.fetch_add(item.bytes) + item.bytes > tuning_.max_pending_bytes) {
    pending_bytes_ -= item.bytes;
    ++failures_;
    return RedisError::queue_full;
  }
  if (queue_.push(std::move(item))) {
    asio::post(io_, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->flush();
    });
  }
  return {};
}

void RedisHistory::Store::query(Query query) {
  if (options_.limit == 0) return query.answer(make_error_code(HistoryError::unknown_stream));
  asio::post(io_, [weak = weak_from_this(), query = std::move(query)]() mutable {
    auto self = weak.lock();
    if (!self || !self->up_ || self->stopping_) {
      return query.answer(make_error_code(HistoryError::unavailable));
    }
    self->send_query(std::move(query));
  });
}

// ---------------------------------------------------------------------------- broker loop

void RedisHistory::Store::open(std::function<void(error_code)> started) {
  started_ = std::move(started);
  client_ = std::make_shared<RedisClient>(
      io_,
      pubsub::redis::client_options(endpoint_, "history",
                                    pubsub::redis::named_unless_set(tuning_, "cablecast-history"),
                                    " (history broadcasts fail until it is back)"),
      pubsub::redis::events_for(weak_from_this(), &Store::on_up, &Store::on_down));
  client_->open();
}

void RedisHistory::Store::on_up(bool reconnected) {
  if (stopping_) return;
  reconnected_ = reconnected;  // counted once usable: after the handshake
  // Every connection loads the scripts first (a restarted Redis has none), and checks what it
  // talks to: the scripts need Redis 6.2.
  handshake_pending_ = 3;
  handshake_error_ = {};
  auto step = [weak = weak_from_this()](const redisReply* reply) {
    auto self = weak.lock();
    if (self && reply) self->on_handshake_reply(reply);  // none: on_down says why
  };
  client_->command({"SCRIPT", "LOAD", script::kAppendScript}, step);
  client_->command({"SCRIPT", "LOAD", script::kQueryScript}, step);
  client_->command({"INFO", "server"}, step);
}

void RedisHistory::Store::on_handshake_reply(const redisReply* reply) {
  std::string_view text = text_of(reply);
  std::string_view version = pubsub::redis::redis_version_line(text);
  if (reply->type == REDIS_REPLY_ERROR) {
    if (!handshake_error_) {
      handshake_error_ = RedisError::server_error;
      handshake_detail_ = text;
    }
  } else if (!version.empty() && !pubsub::redis::redis_version_at_least(text, 6, 2)) {
    handshake_error_ = RedisError::server_error;
    handshake_detail_ = "history needs Redis 6.2 or later; this one has " + std::string(version);
  }
  if (--handshake_pending_ > 0) return;
  if (handshake_error_) {
    CC_LOG_ERROR("redis history on {}: {}", endpoint_.describe(), handshake_detail_);
    if (started_) {
      client_->close();
      std::exchange(started_, nullptr)(handshake_error_);
    } else {
      client_->restart(handshake_error_, handshake_detail_);  // and again after the backoff
    }
    return;
  }
  up_ = true;
  failure_logged_ = false;
  if (std::exchange(reconnected_, false)) {
    ++reconnects_;
    CC_LOG_INFO("redis history reconnected to {}; {} broadcast(s) failed while it was down",
                endpoint_.describe(), failures_.load() - failures_at_loss_);
  }
  if (started_) {
    CC_LOG_INFO(
        "history: redis streams on {} (last {} message(s) per stream for {} s, keys "
        "\"{}history:*\")",
        endpoint_.describe(), options_.limit, options_.ttl.count(), key_prefix_);
    std::exchange(started_, nullptr)(error_code{});
  }
}

bool RedisHistory::Store::on_down(error_code code, const std::string& detail) {
  // Publications counted from here on failed during this outage (for the reconnect line).
  if (up_.exchange(false)) failures_at_loss_ = failures_.load();
  if (stopping_) return false;
  if (started_) {
    // Not up yet: start() returns and the connection keeps trying (history broadcasts fail
    // meanwhile). Anything else at start-up is final: the operator must see a bad password.
    const bool wait = pubsub::redis::is_unreachable(code);
    if (!wait) {
      CC_LOG_ERROR("redis history connection to {} failed: {} ({})", endpoint_.describe(),
                   code.message(), detail);
    }
    std::exchange(started_, nullptr)(code);
    return wait;
  }
  return true;
}

void RedisHistory::Store::flush() {
  for (auto& item : queue_.take()) send(std::move(item));
}

void RedisHistory::Store::send(Outgoing item) {
  if (!client_ || !up_) {
    return failed(item.bytes, "the history connection went down before it was sent");
  }
  // Held until the reply (a NOSCRIPT sends it again); the arguments are views into it.
  auto held = std::make_shared<Outgoing>(std::move(item));
  const Outgoing& out = *held;
  auto reply_to = [weak = weak_from_this(), held](const redisReply* reply) {
    if (auto self = weak.lock()) self->on_publish_reply(reply, *held);
  };
  const std::string channel = pubsub::redis::channel_for(channel_prefix_, out.stream);
  bool sent = false;
  if (out.plain) {
    sent = client_->command({"PUBLISH", channel, out.message}, std::move(reply_to));
  } else {
    const std::string meta = script::meta_key(key_prefix_, out.stream);
    const std::string log = script::log_key(key_prefix_, out.stream);
    const std::string epoch = new_epoch();  // used only when the stream has no record
    sent = client_->command(
        {out.by_body ? "EVAL" : "EVALSHA", out.by_body ? script::kAppendScript : append_sha_, "2",
         meta, log, channel, out.message, out.head, limit_, ttl_, epoch},
        std::move(reply_to));
  }
  if (!sent) failed(out.bytes, "hiredis refused the command");
}

void RedisHistory::Store::on_publish_reply(const redisReply* reply, Outgoing& item) {
  if (reply == nullptr) {
    return failed(item.bytes, "the connection was lost before Redis acknowledged it");
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    // NOSCRIPT: Redis lost the script since this connection loaded it (SCRIPT FLUSH). EVAL
    // with the body loads it again. Publications already in flight behind this one may then
    // overtake it; that takes an operator flushing scripts, and nothing is lost.
    if (text_of(reply).starts_with("NOSCRIPT") && !item.plain && !item.by_body) {
      CC_LOG_WARN("redis history: Redis forgot the history script; sending it again");
      item.by_body = true;
      return send(std::move(item));
    }
    return failed(item.bytes, text_of(reply));
  }
  ++published_;
  pending_bytes_ -= item.bytes;
}

void RedisHistory::Store::failed(std::size_t bytes, std::string_view why) {
  pending_bytes_ -= bytes;
  const auto failures = ++failures_;
  // Every failure is counted; the log gets the first of an outage (then one line per 1000).
  if (!failure_logged_ || failures % 1000 == 0) {
    failure_logged_ = true;
    CC_LOG_ERROR("redis history: a broadcast was lost: {} ({} failed so far)", why, failures);
  }
}

void RedisHistory::Store::send_query(Query query) {
  if (!client_ || !up_) return query.answer(make_error_code(HistoryError::unavailable));
  const std::string meta = script::meta_key(key_prefix_, query.stream);
  const std::string log = script::log_key(key_prefix_, query.stream);
  // From a position: entries from the next offset on (ids are "<offset>-0"); since a time: all.
  const std::string first =
      query.after ? std::to_string(query.after->offset + 1) + "-0" : std::string("-");
  const std::string since = std::to_string(query.after ? 0 : query.since);
  const std::string_view script_ref = query.by_body ? script::kQueryScript : query_sha_;
  const std::string_view command = query.by_body ? "EVAL" : "EVALSHA";
  auto held = std::make_shared<Query>(std::move(query));
  const bool sent =
      client_->command({command, script_ref, "2", meta, log, first, since, ttl_},
                       [weak = weak_from_this(), held](const redisReply* reply) {
                         auto self = weak.lock();
                         if (!self) return held->answer(make_error_code(HistoryError::unavailable));
                         self->on_query_reply(reply, *held);
                       });
  if (!sent) held->answer(make_error_code(HistoryError::unavailable));
}

void RedisHistory::Store::on_query_reply(const redisReply* reply, Query& query) {
  if (reply == nullptr) return query.answer(make_error_code(HistoryError::unavailable));
  if (reply->type == REDIS_REPLY_ERROR) {
    if (text_of(reply).starts_with("NOSCRIPT") && !query.by_body) {
      query.by_body = true;  // as for publications: EVAL loads the script again
      return send_query(std::move(query));
    }
    CC_LOG_ERROR("redis history: a query failed: {}", text_of(reply));
    return query.answer(make_error_code(HistoryError::unavailable));
  }
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 0) {
    return query.answer(make_error_code(HistoryError::unknown_stream));
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 3 != 2) {
    CC_LOG_ERROR("redis history: a query returned an unexpected reply (type {})", reply->type);
    return query.answer(make_error_code(HistoryError::unavailable));
  }
  Slice slice{std::string(text_of(reply->element[0])), {}};
  const auto last = number_in<std::uint64_t>(text_of(reply->element[1]));
  bool malformed = !last;
  for (std::size_t i = 2; i < reply->elements && !malformed; i += 3) {
    std::string_view id = text_of(reply->element[i]);
    auto offset = number_in<std::uint64_t>(id.substr(0, id.find('-')));
    auto time = number_in<std::int64_t>(text_of(reply->element[i + 1]));
    malformed = !offset || !time;
    if (!malformed) {
      slice.entries.push_back({*offset, *time, std::string(text_of(reply->element[i + 2]))});
    }
  }
  if (malformed) {
    CC_LOG_ERROR("redis history: stream \"{}\" holds entries it did not write",
                 log::clip(query.stream));
    return query.answer(make_error_code(HistoryError::unavailable));
  }
  if (query.after) {
    // The script started at offset + 1; a client's offset of 2^64 - 1 wraps that to 0.
    std::erase_if(slice.entries, [&](const Entry& e) { return e.offset <= query.after->offset; });
    const std::uint64_t first_kept_after = slice.entries.empty() ? 0 : slice.entries[0].offset;
    if (auto ec = check_from(slice.epoch, *last, first_kept_after, *query.after)) {
      return query.answer(ec);
    }
  }
  query.answer(std::move(slice));
}

void RedisHistory::Store::close(std::function<void()> done) {
  stopping_ = true;
  accepting_ = false;
  started_ = nullptr;
  flush();  // what other threads queued before stop() still goes out
  auto finish = [weak = weak_from_this(), done = std::move(done)] {
    if (auto self = weak.lock()) {
      self->up_ = false;
      self->client_.reset();  // its timers are bound to the loop: released here, on the loop
      auto c = self->counters();
      CC_LOG_INFO("redis history stopped: {} broadcast(s) published, {} failed, {} reconnect(s)",
                  c.published, c.publish_failures, c.reconnects);
    }
    done();
  };
  if (client_) {
    client_->close_gracefully(tuning_.shutdown_flush, std::move(finish));
  } else {
    asio::post(io_, std::move(finish));
  }
}

// ---------------------------------------------------------------------------- RedisHistory

RedisHistory::RedisHistory(asio::io_context& broker_loop, pubsub::redis::RedisEndpoint endpoint,
                           std::string channel_prefix, HistoryOptions options,
                           std::string key_prefix, pubsub::redis::RedisConnectionTuning tuning)
    : io_(broker_loop),
      lifecycle_(broker_loop),
      connect_timeout_(tuning.connect_timeout),
      shutdown_flush_(tuning.shutdown_flush),
      store_(std::make_shared<Store>(broker_loop, std::move(endpoint), std::move(channel_prefix),
                                     options, std::move(key_prefix), std::move(tuning))) {}

RedisHistory::~RedisHistory() = default;

boost::system::result<void> RedisHistory::start() {
  return lifecycle_.start(connect_timeout_, "redis history",
                          [store = store_](auto done) { store->open(std::move(done)); });
}

void RedisHistory::stop() {
  if (!lifecycle_.begin_stop()) return;
  store_->stop_accepting();
  pubsub::redis::close_on_loop(io_, shutdown_flush_, "redis history",
                               [store = store_](auto done) { store->close(std::move(done)); });
}

boost::system::result<void> RedisHistory::publish(std::string_view stream, std::string_view message,
                                                  const broadcast::Meta& meta) {
  return store_->publish(stream, message, meta);
}

std::optional<Position> RedisHistory::on_receive(std::string_view, std::string_view,
                                                 const broadcast::Meta* meta) {
  if (!meta || meta->offset == 0) return std::nullopt;
  return Position{meta->epoch, meta->offset};
}

void RedisHistory::history_from(std::string stream, Position after, asio::any_io_executor ex,
                                QueryFn done) {
  store_->query({std::move(stream), std::move(after), 0, std::move(ex), std::move(done)});
}

void RedisHistory::history_since(std::string stream, std::int64_t since, asio::any_io_executor ex,
                                 QueryFn done) {
  store_->query({std::move(stream), std::nullopt, since, std::move(ex), std::move(done)});
}

RedisHistoryCounters RedisHistory::counters() const { return store_->counters(); }

bool RedisHistory::connected() const { return store_ && store_->up(); }

}  // namespace cablecast::broker
