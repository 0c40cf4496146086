#include "pubsub/redis/redis_broker.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <utility>

#include "core/log.hpp"
#include "pubsub/redis/channel_name.hpp"
#include "pubsub/redis/redis_error.hpp"

namespace cablecast::pubsub::redis {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

std::string_view text_of(const redisReply* reply) {
  return reply->str ? std::string_view(reply->str, static_cast<std::size_t>(reply->len))
                    : std::string_view{};
}

}  // namespace

RedisBroker::RedisBroker(asio::io_context& io, RedisAdapterOptions options, DeliverFn deliver)
    : io_(io), options_(std::move(options)), deliver_(std::move(deliver)) {}

RedisBroker::~RedisBroker() {
  // close() normally released both connections on the broker loop. If it never ran (start()
  // was never called), there is nothing to free; freeing here would run hiredis callbacks into
  // a half-destroyed object, hence the explicit order.
  if (subscriber_) subscriber_->close();
  if (publisher_) publisher_->close();
}

// ---------------------------------------------------------------------------- any thread

boost::system::result<void> RedisBroker::publish(std::string_view stream,
                                                 std::string_view payload) {
  if (!accepting_) return RedisError::stopped;
  if (!publisher_up_) {
    // Known down (reconnecting): refuse now, so the caller knows the broadcast did not leave.
    ++publish_failures_;
    return RedisError::not_connected;
  }
  std::string channel = channel_for(options_.channel_prefix, stream);
  const std::size_t bytes = channel.size() + payload.size();
  if (pending_bytes_.fetch_add(bytes) + bytes > options_.max_pending_bytes) {
    pending_bytes_ -= bytes;
    ++publish_failures_;
    return RedisError::queue_full;
  }
  std::lock_guard lock(queue_mutex_);
  queue_.push_back({std::move(channel), std::string(payload)});
  // One posted flush drains everything queued meanwhile: under load, many PUBLISHes leave in one
  // write, in the order they were queued (per publishing thread: the order of its calls).
  if (!flush_posted_) {
    flush_posted_ = true;
    asio::post(io_, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->flush_publishes();
    });
  }
  return {};
}

void RedisBroker::subscribe(const std::string& stream, ReadyFn on_ready) {
  if (!accepting_) return;  // stopping: ready callbacks are dropped (Adapter::stop)
  asio::post(io_, [weak = weak_from_this(), stream, on_ready = std::move(on_ready)]() mutable {
    if (auto self = weak.lock()) self->do_subscribe(stream, std::move(on_ready));
  });
}

void RedisBroker::unsubscribe(const std::string& stream) {
  if (!accepting_) return;
  asio::post(io_, [weak = weak_from_this(), stream] {
    if (auto self = weak.lock()) self->do_unsubscribe(stream);
  });
}

RedisCounters RedisBroker::counters() const {
  return {published_.load(), publish_failures_.load(), reconnects_.load(), received_.load()};
}

AdapterHealth RedisBroker::health() const {
  AdapterHealth health;
  health.reconnects = reconnects_.load(std::memory_order_relaxed);
  health.connected = accepting_ && linked_.load(std::memory_order_relaxed);
  if (!health.connected) {
    std::lock_guard lock(reason_mutex_);
    health.reason = !accepting_            ? "redis: stopped"
                    : down_reason_.empty() ? "redis: connecting to " + options_.endpoint.describe()
                                           : down_reason_;
  }
  return health;
}

void RedisBroker::reconnect() {
  if (!accepting_) return;
  asio::post(io_, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || self->stopping_ || self->started_) return;  // start-up has its own timeout
    CC_LOG_WARN("redis: reconnecting both connections to {}: the health canary did not come back",
                self->options_.endpoint.describe());
    const std::string why = "the health canary did not come back";
    if (self->subscriber_) self->subscriber_->restart(RedisError::connection_lost, why);
    if (self->publisher_) self->publisher_->restart(RedisError::connection_lost, why);
  });
}

// ---------------------------------------------------------------------------- broker loop

void RedisBroker::open(std::function<void(error_code)> started) {
  started_ = std::move(started);
  std::weak_ptr<RedisBroker> weak = weak_from_this();
  auto make = [&](const char* role, const char* while_down, bool subscriber) {
    RedisClientOptions o{options_.endpoint,
                         role,
                         options_.client_name,
                         options_.connect_timeout,
                         options_.first_retry,
                         options_.max_retry,
                         while_down};
    auto client = std::make_shared<RedisClient>(
        io_, std::move(o),
        RedisClient::Events{[weak, subscriber](bool reconnected) {
                              auto self = weak.lock();
                              if (!self) return;
                              if (subscriber) {
                                self->on_subscriber_up(reconnected);
                              } else {
                                self->on_publisher_up(reconnected);
                              }
                            },
                            [weak, subscriber](error_code code, const std::string& detail) {
                              auto self = weak.lock();
                              return self && self->on_down(subscriber, code, detail);
                            }});
    client->open();
    return client;
  };
  subscriber_ = make("subscriber", " (streams are resubscribed once it is back)", true);
  publisher_ = make("publisher", " (broadcasts fail until it is back)", false);
}

void RedisBroker::on_subscriber_up(bool reconnected) {
  if (stopping_) return;
  // Rails' listener subscribes this first: the subscription count never drops to zero, and its
  // acknowledgement tells us the connection is in pub/sub mode.
  send_subscribe(kInternalChannel);
  raw_ready_ = options_.raw_channel.empty();
  if (!raw_ready_) send_subscribe(options_.raw_channel);
  std::vector<std::string> streams = table_.connected();
  for (const auto& stream : streams) send_subscribe(channel_for(options_.channel_prefix, stream));
  if (reconnected) {
    ++reconnects_;
    CC_LOG_INFO("redis subscriber reconnected to {}; resubscribing {} stream(s)",
                options_.endpoint.describe(), streams.size());
  }
}

void RedisBroker::on_publisher_up(bool reconnected) {
  if (stopping_) return;
  publisher_up_ = true;
  failure_logged_ = false;
  if (reconnected) {
    ++reconnects_;
    CC_LOG_INFO("redis publisher reconnected to {}; {} broadcast(s) failed while it was down",
                options_.endpoint.describe(), publish_failures_.load() - failures_at_loss_);
  }
  check_started();
}

void RedisBroker::update_link() {
  linked_.store(listener_ready_ && raw_ready_ && publisher_up_, std::memory_order_relaxed);
}

void RedisBroker::set_down_reason(std::string reason) {
  std::lock_guard lock(reason_mutex_);
  down_reason_ = std::move(reason);
}

void RedisBroker::check_started() {
  update_link();
  if (!linked_) return;
  if (!announced_) {
    announced_ = true;
    CC_LOG_INFO("redis pub/sub connected to {} (channel prefix \"{}\")",
                options_.endpoint.describe(), options_.channel_prefix);
    if (!options_.raw_channel.empty()) {
      CC_LOG_INFO("redis: listening for application publications on channel \"{}\"",
                  options_.raw_channel);
    }
  }
  if (started_) std::exchange(started_, nullptr)(error_code{});
}

void RedisBroker::fail_start(error_code code) {
  // At start-up a failure is final: a bad URL or password does not get better by retrying, and
  // the operator must see it at once (non-zero exit).
  subscriber_->close();
  publisher_->close();
  publisher_up_ = false;
  update_link();
  std::exchange(started_, nullptr)(code);
}

bool RedisBroker::on_down(bool subscriber, error_code code, const std::string& detail) {
  if (subscriber) {
    listener_ready_ = false;
    table_.disconnected();
  } else {
    if (publisher_up_) failures_at_loss_ = publish_failures_.load();
    publisher_up_ = false;
  }
  update_link();
  if (stopping_) return false;
  set_down_reason(fmt::format("redis {} connection to {}: {} ({})",
                              subscriber ? "subscriber" : "publisher", options_.endpoint.describe(),
                              code.message(), detail));
  if (started_) {
    if (is_unreachable(code)) {
      // Not up yet (an orchestrator starts everything at once): start() returns, the node
      // serves and says why in /ready and /health, and both connections keep trying.
      std::exchange(started_, nullptr)(code);
      return true;
    }
    CC_LOG_ERROR("redis {} connection to {} failed: {} ({})",
                 subscriber ? "subscriber" : "publisher", options_.endpoint.describe(),
                 code.message(), detail);
    fail_start(code);
    return false;
  }
  return true;  // the client logs the loss and reconnects with backoff
}

void RedisBroker::do_subscribe(const std::string& stream, ReadyFn on_ready) {
  if (stopping_) return;
  std::vector<ReadyFn> ready_now;
  if (table_.add(stream, std::move(on_ready), ready_now)) {
    send_subscribe(channel_for(options_.channel_prefix, stream));
  }
  for (auto& ready : ready_now) ready(error_code{});
}

void RedisBroker::do_unsubscribe(const std::string& stream) {
  if (stopping_) return;
  if (!table_.remove(stream)) return;
  redisAsyncContext* context = subscriber_->context();
  if (!context) return;  // lost meanwhile: the stream is simply not resubscribed
  std::string channel = channel_for(options_.channel_prefix, stream);
  redisAsyncCommand(context, nullptr, nullptr, "UNSUBSCRIBE %b", channel.data(), channel.size());
}

void RedisBroker::send_subscribe(std::string_view channel) {
  redisAsyncContext* context = subscriber_->context();
  if (!context) return;  // lost meanwhile: on_down has reset the table, reconnect resubscribes
  redisAsyncCommand(context, &RedisBroker::on_subscriber_reply, this, "SUBSCRIBE %b",
                    channel.data(), channel.size());
}

void RedisBroker::on_subscriber_reply(redisAsyncContext*, void* reply_data, void* data) {
  auto* self = static_cast<RedisBroker*>(data);
  const auto* reply = static_cast<const redisReply*>(reply_data);
  if (reply == nullptr) return;  // the context is being freed; on_down handles the loss
  if (reply->type == REDIS_REPLY_ERROR) {
    CC_LOG_ERROR("redis subscriber: Redis refused a command: {}", text_of(reply));
    return;
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
  std::string_view kind = text_of(reply->element[0]);
  std::string_view channel = text_of(reply->element[1]);
  const bool raw = !self->options_.raw_channel.empty() && channel == self->options_.raw_channel;
  if (kind == "message") {
    if (raw) {
      ++self->received_;
      self->options_.on_raw_message(text_of(reply->element[2]));
      return;
    }
    auto stream = stream_for(self->options_.channel_prefix, channel);
    if (!stream) return;
    ++self->received_;
    self->deliver_(*stream, std::make_shared<const std::string>(text_of(reply->element[2])));
  } else if (kind == "subscribe") {
    if (channel == kInternalChannel || raw) {
      (channel == kInternalChannel ? self->listener_ready_ : self->raw_ready_) = true;
      self->check_started();
      return;
    }
    auto stream = stream_for(self->options_.channel_prefix, channel);
    if (!stream) return;
    for (auto& ready : self->table_.acknowledged(*stream)) ready(error_code{});
  }
  // "unsubscribe" acknowledgements need nothing: the table already forgot the stream.
}

void RedisBroker::flush_publishes() {
  std::vector<QueuedPublish> batch;
  {
    std::lock_guard lock(queue_mutex_);
    batch.swap(queue_);
    flush_posted_ = false;
  }
  redisAsyncContext* context = publisher_ ? publisher_->context() : nullptr;
  const bool up = context && publisher_->is_up();
  for (auto& item : batch) {
    const std::size_t bytes = item.channel.size() + item.payload.size();
    if (!up) {
      publish_failed(bytes, "the publisher connection went down before it was sent");
      continue;
    }
    const char* argv[] = {"PUBLISH", item.channel.data(), item.payload.data()};
    const std::size_t lengths[] = {7, item.channel.size(), item.payload.size()};
    if (redisAsyncCommandArgv(context, &RedisBroker::on_publish_reply, this, 3, argv, lengths) !=
        REDIS_OK) {
      publish_failed(bytes, "hiredis refused the command");
      continue;
    }
    in_flight_bytes_.push_back(bytes);
  }
}

void RedisBroker::on_publish_reply(redisAsyncContext*, void* reply_data, void* data) {
  auto* self = static_cast<RedisBroker*>(data);
  const auto* reply = static_cast<const redisReply*>(reply_data);
  std::size_t bytes = 0;
  if (!self->in_flight_bytes_.empty()) {
    bytes = self->in_flight_bytes_.front();
    self->in_flight_bytes_.pop_front();
  }
  if (reply == nullptr) {
    self->publish_failed(bytes, "the connection was lost before Redis acknowledged it");
  } else if (reply->type == REDIS_REPLY_ERROR) {
    self->publish_failed(bytes, text_of(reply));
  } else {
    ++self->published_;
    self->pending_bytes_ -= bytes;
  }
}

void RedisBroker::publish_failed(std::size_t bytes, std::string_view why) {
  pending_bytes_ -= bytes;
  const auto failures = ++publish_failures_;
  // Every failure is counted; the log gets the first of an outage (then one line per 1000), so
  // an outage under load does not flood it. The reconnect line gives the total.
  if (!failure_logged_ || failures % 1000 == 0) {
    failure_logged_ = true;
    CC_LOG_ERROR("redis: a broadcast was lost: {} ({} failed so far)", why, failures);
  }
}

void RedisBroker::close(std::function<void()> done) {
  stopping_ = true;
  accepting_ = false;
  started_ = nullptr;
  table_ = SubscriptionTable{};  // pending ready callbacks are dropped
  if (subscriber_) subscriber_->close();
  flush_publishes();  // what other threads queued before stop() still goes out
  auto finish = [weak = weak_from_this(), done = std::move(done)] {
    if (auto self = weak.lock()) {
      self->publisher_up_ = false;
      self->update_link();
      // The connections own timers bound to the loop: release them here, on the loop, so
      // nothing of ours outlives stop() on it.
      self->subscriber_.reset();
      self->publisher_.reset();
      auto c = self->counters();
      CC_LOG_INFO(
          "redis pub/sub stopped: {} broadcast(s) published, {} failed, {} reconnect(s), {} "
          "message(s) received",
          c.published, c.publish_failures, c.reconnects, c.received);
    }
    done();
  };
  if (publisher_) {
    publisher_->close_gracefully(options_.shutdown_flush, std::move(finish));
  } else {
    asio::post(io_, std::move(finish));
  }
}

}  // namespace cablecast::pubsub::redis
