#include "broker/redis_history.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <boost/asio/post.hpp>
#include <charconv>
#include <deque>
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
#include "pubsub/redis/redis_error.hpp"

namespace cablecast::broker {

namespace asio = boost::asio;
namespace script = redis_history;
using boost::system::error_code;
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
    Store* store = nullptr;  // set when sent
    bool by_body = false;    // sent with EVAL after a NOSCRIPT

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

  // ---- broker loop ----
  void open(std::function<void(error_code)> started);
  void close(std::function<void()> done);

 private:
  void on_up(bool reconnected);
  void on_down(error_code code, const std::string& detail);
  void handshake_done(error_code ec, std::string detail);
  void flush();
  void send(Outgoing item);
  void send_query(Query* query);
  void failed(std::size_t bytes, std::string_view why);

  static void on_handshake_reply(redisAsyncContext*, void* reply, void* self);
  static void on_publish_reply(redisAsyncContext*, void* reply, void* self);
  static void on_query_reply(redisAsyncContext*, void* reply, void* query);

  asio::io_context& io_;
  const pubsub::redis::RedisEndpoint endpoint_;
  const std::string channel_prefix_;
  const HistoryOptions options_;
  const std::string key_prefix_;
  const pubsub::redis::RedisConnectionTuning tuning_;
  const std::string limit_, ttl_;  // script arguments
  const std::string append_sha_, query_sha_;

  // Broker loop only.
  std::optional<pubsub::redis::RedisLink> link_;
  std::function<void(error_code)> started_;  // set while start() waits
  int handshake_pending_ = 0;
  bool reconnected_ = false;  // the handshake in progress follows a loss
  error_code handshake_error_;
  std::string handshake_detail_;
  bool stopping_ = false;
  bool failure_logged_ = false;  // one error line per outage, then counting
  std::uint64_t failures_at_loss_ = 0;
  std::deque<Outgoing> in_flight_;  // sent, in reply order

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
    self->send_query(new Query(std::move(query)));
  });
}

// ---------------------------------------------------------------------------- broker loop

void RedisHistory::Store::open(std::function<void(error_code)> started) {
  started_ = std::move(started);
  std::weak_ptr<Store> weak = weak_from_this();
  link_.emplace(
      io_, endpoint_, "history", tuning_, " (history broadcasts fail until it is back)",
      pubsub::redis::RedisLink::Events{[weak](bool reconnected) {
                                         if (auto self = weak.lock()) self->on_up(reconnected);
                                       },
                                       [weak](error_code code, const std::string& detail) {
                                         if (auto self = weak.lock()) self->on_down(code, detail);
                                       }});
  link_->open();
}

void RedisHistory::Store::on_up(bool reconnected) {
  if (stopping_) return;
  reconnected_ = reconnected;  // counted once usable: after the handshake
  // Every connection loads the scripts first (a restarted Redis has none), and checks what it
  // talks to: the scripts need Redis 6.2.
  redisAsyncContext* context = link_->context();
  handshake_pending_ = 3;
  handshake_error_ = {};
  for (const std::string_view* body : {&script::kAppendScript, &script::kQueryScript}) {
    const char* argv[] = {"SCRIPT", "LOAD", body->data()};
    const std::size_t lengths[] = {6, 4, body->size()};
    redisAsyncCommandArgv(context, &Store::on_handshake_reply, this, 3, argv, lengths);
  }
  redisAsyncCommand(context, &Store::on_handshake_reply, this, "INFO server");
}

void RedisHistory::Store::on_handshake_reply(redisAsyncContext*, void* reply_data, void* data) {
  auto* self = static_cast<Store*>(data);
  const auto* reply = static_cast<const redisReply*>(reply_data);
  if (reply == nullptr) return;  // the connection is going away; on_down says why
  if (reply->type == REDIS_REPLY_ERROR) {
    return self->handshake_done(RedisError::server_error, std::string(text_of(reply)));
  }
  std::string_view text = text_of(reply);
  std::string_view version = pubsub::redis::redis_version_line(text);
  if (!version.empty() && !pubsub::redis::redis_version_at_least(text, 6, 2)) {
    return self->handshake_done(
        RedisError::server_error,
        "history needs Redis 6.2 or later; this one has " + std::string(version));
  }
  self->handshake_done({}, {});
}

void RedisHistory::Store::handshake_done(error_code ec, std::string detail) {
  if (ec && !handshake_error_) {
    handshake_error_ = ec;
    handshake_detail_ = std::move(detail);
  }
  if (--handshake_pending_ > 0) return;
  if (handshake_error_) {
    CC_LOG_ERROR("redis history on {}: {}", endpoint_.describe(), handshake_detail_);
    if (started_) {
      link_->close();
      std::exchange(started_, nullptr)(handshake_error_);
    } else {
      link_->restart(handshake_error_, handshake_detail_);
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

void RedisHistory::Store::on_down(error_code code, const std::string& detail) {
  up_ = false;
  if (stopping_) return;
  if (started_) {
    CC_LOG_ERROR("redis history connection to {} failed: {} ({})", endpoint_.describe(),
                 code.message(), detail);
    link_->close();
    std::exchange(started_, nullptr)(code);
    return;
  }
  if (!link_->reconnecting()) failures_at_loss_ = failures_.load();
  link_->retry(code, detail);
}

void RedisHistory::Store::flush() {
  for (auto& item : queue_.take()) send(std::move(item));
}

void RedisHistory::Store::send(Outgoing item) {
  redisAsyncContext* context = link_ ? link_->context() : nullptr;
  if (!context || !up_) {
    return failed(item.bytes, "the history connection went down before it was sent");
  }
  const std::string channel = pubsub::redis::channel_for(channel_prefix_, item.stream);
  int sent = REDIS_ERR;
  if (item.plain) {
    const char* argv[] = {"PUBLISH", channel.data(), item.message.data()};
    const std::size_t lengths[] = {7, channel.size(), item.message.size()};
    sent = redisAsyncCommandArgv(context, &Store::on_publish_reply, this, 3, argv, lengths);
  } else {
    const std::string meta = script::meta_key(key_prefix_, item.stream);
    const std::string log = script::log_key(key_prefix_, item.stream);
    const std::string epoch = new_epoch();  // used only when the stream has no record
    const std::string_view body = item.by_body ? script::kAppendScript : append_sha_;
    const char* argv[] = {item.by_body ? "EVAL" : "EVALSHA",
                          body.data(),
                          "2",
                          meta.data(),
                          log.data(),
                          channel.data(),
                          item.message.data(),
                          item.head.data(),
                          limit_.data(),
                          ttl_.data(),
                          epoch.data()};
    const std::size_t lengths[] = {item.by_body ? 4u : 7u,
                                   body.size(),
                                   1,
                                   meta.size(),
                                   log.size(),
                                   channel.size(),
                                   item.message.size(),
                                   item.head.size(),
                                   limit_.size(),
                                   ttl_.size(),
                                   epoch.size()};
    sent = redisAsyncCommandArgv(context, &Store::on_publish_reply, this, 11, argv, lengths);
  }
  if (sent != REDIS_OK) return failed(item.bytes, "hiredis refused the command");
  in_flight_.push_back(std::move(item));
}

void RedisHistory::Store::on_publish_reply(redisAsyncContext*, void* reply_data, void* data) {
  auto* self = static_cast<Store*>(data);
  const auto* reply = static_cast<const redisReply*>(reply_data);
  CABLE_ASSERT(!self->in_flight_.empty());
  Outgoing item = std::move(self->in_flight_.front());
  self->in_flight_.pop_front();
  if (reply == nullptr) {
    return self->failed(item.bytes, "the connection was lost before Redis acknowledged it");
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    // NOSCRIPT: Redis lost the script since this connection loaded it (SCRIPT FLUSH). EVAL
    // with the body loads it again. Publications already in flight behind this one may then
    // overtake it; that takes an operator flushing scripts, and nothing is lost.
    if (text_of(reply).starts_with("NOSCRIPT") && !item.plain && !item.by_body) {
      CC_LOG_WARN("redis history: Redis forgot the history script; sending it again");
      item.by_body = true;
      return self->send(std::move(item));
    }
    return self->failed(item.bytes, text_of(reply));
  }
  ++self->published_;
  self->pending_bytes_ -= item.bytes;
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

void RedisHistory::Store::send_query(Query* query) {
  redisAsyncContext* context = link_ ? link_->context() : nullptr;
  if (!context || !up_) {
    query->answer(make_error_code(HistoryError::unavailable));
    delete query;
    return;
  }
  const std::string meta = script::meta_key(key_prefix_, query->stream);
  const std::string log = script::log_key(key_prefix_, query->stream);
  // From a position: entries from the next offset on (ids are "<offset>-0"); since a time: all.
  const std::string first =
      query->after ? std::to_string(query->after->offset + 1) + "-0" : std::string("-");
  const std::string since = std::to_string(query->after ? 0 : query->since);
  query->store = this;
  const std::string_view body = query->by_body ? script::kQueryScript : query_sha_;
  const char* argv[] = {query->by_body ? "EVAL" : "EVALSHA",
                        body.data(),
                        "2",
                        meta.data(),
                        log.data(),
                        first.data(),
                        since.data(),
                        ttl_.data()};
  const std::size_t lengths[] = {query->by_body ? 4u : 7u,
                                 body.size(),
                                 1,
                                 meta.size(),
                                 log.size(),
                                 first.size(),
                                 since.size(),
                                 ttl_.size()};
  // Once accepted, hiredis calls back exactly once (with no reply if the connection goes), and
  // the callback owns the query.
  if (redisAsyncCommandArgv(context, &Store::on_query_reply, query, 8, argv, lengths) != REDIS_OK) {
    query->answer(make_error_code(HistoryError::unavailable));
    delete query;
  }
}

void RedisHistory::Store::on_query_reply(redisAsyncContext*, void* reply_data, void* data) {
  std::unique_ptr<Query> query(static_cast<Query*>(data));
  const auto* reply = static_cast<const redisReply*>(reply_data);
  if (reply == nullptr) return query->answer(make_error_code(HistoryError::unavailable));
  if (reply->type == REDIS_REPLY_ERROR) {
    if (text_of(reply).starts_with("NOSCRIPT") && !query->by_body) {
      query->by_body = true;  // as on_publish_reply: EVAL loads the script again
      Store* store = query->store;
      return store->send_query(query.release());
    }
    CC_LOG_ERROR("redis history: a query failed: {}", text_of(reply));
    return query->answer(make_error_code(HistoryError::unavailable));
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 3 != 2) {
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 0) {
      return query->answer(make_error_code(HistoryError::unknown_stream));
    }
    CC_LOG_ERROR("redis history: a query returned an unexpected reply (type {})", reply->type);
    return query->answer(make_error_code(HistoryError::unavailable));
  }
  Slice slice{std::string(text_of(reply->element[0])), {}};
  const auto last = number_in<std::uint64_t>(text_of(reply->element[1]));
  bool malformed = !last;
  for (std::size_t i = 2; i < reply->elements; i += 3) {
    std::string_view id = text_of(reply->element[i]);
    auto offset = number_in<std::uint64_t>(id.substr(0, id.find('-')));
    auto time = number_in<std::int64_t>(text_of(reply->element[i + 1]));
    if (!offset || !time) {
      malformed = true;
      break;
    }
    slice.entries.push_back({*offset, *time, std::string(text_of(reply->element[i + 2]))});
  }
  if (malformed) {
    CC_LOG_ERROR("redis history: stream \"{}\" holds entries it did not write",
                 log::clip(query->stream));
    return query->answer(make_error_code(HistoryError::unavailable));
  }
  if (query->after) {
    // The script started at offset + 1; a client's offset of 2^64 - 1 wraps that to 0.
    std::erase_if(slice.entries, [&](const Entry& e) { return e.offset <= query->after->offset; });
    const std::uint64_t first_kept_after = slice.entries.empty() ? 0 : slice.entries[0].offset;
    if (auto ec = check_from(slice.epoch, *last, first_kept_after, *query->after)) {
      return query->answer(ec);
    }
  }
  query->answer(std::move(slice));
}

void RedisHistory::Store::close(std::function<void()> done) {
  stopping_ = true;
  accepting_ = false;
  started_ = nullptr;
  flush();  // what other threads queued before stop() still goes out
  auto finish = [weak = weak_from_this(), done = std::move(done)] {
    if (auto self = weak.lock()) {
      self->up_ = false;
      self->link_.reset();  // its timers are bound to the loop: released here, on the loop
      auto c = self->counters();
      CC_LOG_INFO("redis history stopped: {} broadcast(s) published, {} failed, {} reconnect(s)",
                  c.published, c.publish_failures, c.reconnects);
    }
    done();
  };
  if (link_) {
    link_->close_gracefully(tuning_.shutdown_flush, std::move(finish));
  } else {
    asio::post(io_, std::move(finish));
  }
}

// ---------------------------------------------------------------------------- RedisHistory

RedisHistory::RedisHistory(asio::io_context& broker_loop, pubsub::redis::RedisEndpoint endpoint,
                           std::string channel_prefix, HistoryOptions options,
                           std::string key_prefix, pubsub::redis::RedisConnectionTuning tuning)
    : io_(broker_loop),
      connect_timeout_(tuning.connect_timeout),
      shutdown_flush_(tuning.shutdown_flush),
      store_(std::make_shared<Store>(broker_loop, std::move(endpoint), std::move(channel_prefix),
                                     options, std::move(key_prefix), std::move(tuning))) {}

RedisHistory::~RedisHistory() {
  // Its connection lives on the broker loop: a started store must be stopped (on the loop)
  // before the loop and this object go.
  CABLE_ASSERT(!started_ || stopped_);
}

boost::system::result<void> RedisHistory::start() {
  CABLE_ASSERT(!started_ && !io_.get_executor().running_in_this_thread());
  started_ = true;
  auto outcome = std::make_shared<std::promise<error_code>>();
  auto ready = outcome->get_future();
  asio::post(io_, [store = store_, outcome] {
    store->open([outcome](error_code ec) { outcome->set_value(ec); });
  });
  // The connection times out by itself; the margin only guards against a loop that does not run.
  if (ready.wait_for(connect_timeout_ + std::chrono::seconds(2)) != std::future_status::ready) {
    CC_LOG_ERROR("redis history: no answer from the broker loop within the connect timeout");
    return RedisError::timed_out;
  }
  if (error_code ec = ready.get()) return ec;
  return {};
}

void RedisHistory::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  CABLE_ASSERT(!io_.get_executor().running_in_this_thread());
  store_->stop_accepting();
  auto closed = std::make_shared<std::promise<void>>();
  auto done = closed->get_future();
  asio::post(io_, [store = store_, closed] { store->close([closed] { closed->set_value(); }); });
  if (done.wait_for(shutdown_flush_ + std::chrono::seconds(5)) != std::future_status::ready) {
    CC_LOG_ERROR("redis history: the broker loop did not finish closing the connection");
  }
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

}  // namespace cablecast::broker
