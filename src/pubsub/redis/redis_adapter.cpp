#include "pubsub/redis/redis_adapter.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <future>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "pubsub/redis/loop_handshake.hpp"
#include "pubsub/redis/redis_error.hpp"

namespace cablecast::pubsub::redis {

namespace asio = boost::asio;
using boost::system::error_code;

RedisAdapter::RedisAdapter(RedisAdapterOptions options) : options_(std::move(options)) {}

RedisAdapter::~RedisAdapter() {
  // The server stops the adapter before its broker loop goes away; destroying a started adapter
  // without stop() would leave connections on a loop that may no longer exist.
  CABLE_ASSERT(!broker_ || stopped_);
}

boost::system::result<void> RedisAdapter::start(DeliverFn deliver, asio::io_context& io) {
  CABLE_ASSERT(!broker_);
  io_ = &io;
  broker_ = std::make_shared<RedisBroker>(io, options_, std::move(deliver));
  return start_on_loop(io, options_.connect_timeout, "redis " + options_.endpoint.describe(),
                       [broker = broker_](auto done) { broker->open(std::move(done)); });
}

AdapterHealth RedisAdapter::health() const {
  if (!broker_) return {false, "redis: not started", 0};
  return broker_->health();
}

void RedisAdapter::reconnect() {
  if (broker_ && !stopped_) broker_->reconnect();
}

bool RedisAdapter::listen_raw_channel(std::string channel, RawMessageFn on_message) {
  CABLE_ASSERT(!broker_ && !channel.empty() && on_message);  // before start()
  options_.raw_channel = std::move(channel);
  options_.on_raw_message = std::move(on_message);
  return true;
}

void RedisAdapter::subscribe(const std::string& stream, ReadyFn on_ready) {
  if (broker_) broker_->subscribe(stream, std::move(on_ready));
}

void RedisAdapter::unsubscribe(const std::string& stream) {
  if (broker_) broker_->unsubscribe(stream);
}

boost::system::result<void> RedisAdapter::publish(std::string_view stream,
                                                  std::string_view payload) {
  if (!broker_) return RedisError::not_connected;
  return broker_->publish(stream, payload);
}

void RedisAdapter::stop() {
  if (!broker_ || stopped_) return;
  stopped_ = true;
  CABLE_ASSERT(!io_->get_executor().running_in_this_thread());
  broker_->stop_accepting();
  close_on_loop(*io_, options_.shutdown_flush, "redis",
                [broker = broker_](auto done) { broker->close(std::move(done)); });
}

RedisCounters RedisAdapter::counters() const {
  return broker_ ? broker_->counters() : RedisCounters{};
}

}  // namespace cablecast::pubsub::redis

namespace cablecast::pubsub {

AdapterOrError make_redis_adapter(const PubSubOptions& options) {
  auto parsed = redis::parse_redis_url(options.redis_url);
  if (!parsed.endpoint) return {nullptr, "invalid --redis-url: " + parsed.error};
  redis::RedisAdapterOptions adapter_options;
  adapter_options.endpoint = std::move(*parsed.endpoint);
  adapter_options.channel_prefix = options.channel_prefix;
  adapter_options.client_name = "ActionCable-PID-" + std::to_string(::getpid());
  return {std::make_unique<redis::RedisAdapter>(std::move(adapter_options)), {}};
}

}  // namespace cablecast::pubsub
