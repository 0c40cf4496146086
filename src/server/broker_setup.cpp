#include "server/broker_setup.hpp"

#include "broker/memory_history.hpp"
#include "broker/memory_presence.hpp"
#include "broker/memory_session_cache.hpp"
#include "broker/redis_presence.hpp"
#include "broker/redis_session_cache.hpp"
#include "pubsub/redis/redis_url.hpp"
#include "broker/publish.hpp"
#include "core/log.hpp"
#include <boost/system/errc.hpp>
#include "protocol/encode.hpp"
#include "server/publications.hpp"

namespace cablecast::server {

session::BrokerEnvironment BrokerStores::environment(const ExtendedProtocolOptions& o) const {
  session::BrokerEnvironment env;
  env.history = history.get();
  env.presence = presence.get();
  env.sessions = sessions.get();
  env.history_ttl = o.history_ttl;
  env.sessions_ttl = o.sessions_ttl;
  env.pong_timeout_seconds = static_cast<std::uint32_t>(o.pong_timeout.count());
  return env;
}

boost::system::result<void> BrokerStores::start() {
  if (redis_history) {
    if (auto started = redis_history->start(); !started) {
      CC_LOG_ERROR("stream history in Redis could not start: {}", started.error().message());
      return started.error();
    }
  }
  if (redisx) {
    if (auto started = redisx->start(); !started) {
      CC_LOG_ERROR("reading anycable-rails' redisx broadcasts could not start: {}",
                   started.error().message());
      return started.error();
    }
  }
  return {};
}

void BrokerStores::stop() {
  if (redisx) redisx->stop();
  if (presence) presence->stop();
  if (sessions) sessions->stop();
  if (redis_history) redis_history->stop();
}

boost::system::result<BrokerStores> make_broker_stores(const ServerOptions& options,
                                                       pubsub::Adapter& adapter,
                                                       boost::asio::io_context& broker_io) {
  const auto& o = options.anycable.extended;
  BrokerStores stores;
  const broker::PresenceOptions presence{o.presence_ttl};
  if (adapter.name() == "redis") {
    auto url = pubsub::redis::parse_redis_url(options.pubsub.redis_url);
    if (!url.endpoint) {
      CC_LOG_ERROR("--redis-url: {}", url.error);
      return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    }
    // Keys of every node of one deployment meet under the same prefix (Rails' channel_prefix
    // separates deployments sharing a Redis).
    std::string prefix = "cablecast:";
    if (!options.pubsub.channel_prefix.empty()) prefix += options.pubsub.channel_prefix + ":";
    broker::RedisPresenceOptions presence_options;
    presence_options.endpoint = *url.endpoint;
    presence_options.prefix = prefix;
    presence_options.presence = presence;
    stores.presence = std::make_unique<broker::RedisPresence>(broker_io, presence_options);
    broker::RedisSessionCacheOptions session_options;
    session_options.endpoint = *url.endpoint;
    session_options.prefix = prefix;
    stores.sessions = std::make_unique<broker::RedisSessionCache>(broker_io, session_options);
    // Every publication goes through the history script (when history is off it only
    // PUBLISHes), so anycable-rails' redisx broadcasts enter history on whichever node reads them.
    if (o.history_limit > 0) {
      auto history = std::make_unique<broker::RedisHistory>(
          broker_io, *url.endpoint, options.pubsub.channel_prefix,
          broker::HistoryOptions{o.history_limit, o.history_ttl}, prefix);
      stores.redis_history = history.get();
      stores.history = std::move(history);
    }
    // anycable-rails' redisx adapter: each publication read by one node, which publishes it
    // through history, so every node delivers it once with the same position.
    if (const auto& stream = options.anycable.broadcast.redis_channel; !stream.empty()) {
      broker::RedisxOptions redisx_options;
      redisx_options.stream = stream;
      stores.redisx = std::make_unique<broker::RedisxConsumer>(
          broker_io, *url.endpoint, redisx_options,
          [history = stores.history.get(), &adapter](std::string_view payload) {
            publish_application_payload(payload, history, adapter);
          });
    }
  } else {
    stores.presence = std::make_unique<broker::MemoryPresence>(broker_io, presence);
    stores.sessions = std::make_unique<broker::MemorySessionCache>(broker_io);
    if (o.history_limit > 0) {
      stores.history = std::make_unique<broker::MemoryHistory>(
          broker::HistoryOptions{o.history_limit, o.history_ttl}, adapter);
    }
  }
  if (stores.history) {
    if (adapter.name() == "postgres") {
      CC_LOG_WARN(
          "stream history: {}: with --pubsub postgres every node numbers and keeps what it "
          "receives; a client that reconnects to another node gets reject_history",
          stores.history->description());
    } else {
      CC_LOG_INFO("stream history: {}, {} messages per stream for {} s",
                  stores.history->description(), o.history_limit, o.history_ttl.count());
    }
  }
  return stores;
}

void publish_presence_event(pubsub::Adapter& adapter, const broker::PresenceEvent& event) {
  broadcast::Meta meta;
  meta.broadcast_type = "presence";
  meta.transient = true;
  const bool join = event.kind == broker::PresenceEvent::Kind::join;
  auto sent = broker::publish(nullptr, adapter, event.stream,
                              protocol::encode_presence_event(join, event.member.id,
                                                              event.member.info),
                              meta);
  if (!sent) {
    CC_LOG_WARN("presence {} of {} on {} could not be published: {}", join ? "join" : "leave",
                log::clip(event.member.id), log::clip(event.stream), sent.error().message());
  }
}

}  // namespace cablecast::server
