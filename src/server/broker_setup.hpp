#pragma once
// The stores of AnyCable's extended protocol (broker/*.hpp) for the pub/sub in use: with Redis,
// history in Redis Streams and presence and sessions in Redis keys (any node answers); with
// memory or PostgreSQL, all three in this process (PostgreSQL: history of this node only).
#include <boost/asio/io_context.hpp>
#include <boost/system/result.hpp>
#include <cablecast/server.hpp>
#include <memory>

#include "broker/history.hpp"
#include "broker/presence.hpp"
#include "broker/redis_history.hpp"
#include "broker/redisx_consumer.hpp"
#include "broker/session_cache.hpp"
#include "pubsub/adapter.hpp"
#include "session/environment.hpp"

namespace cablecast::server {

struct BrokerStores {
  std::unique_ptr<broker::History> history;  // null: --history-limit 0
  std::unique_ptr<broker::Presence> presence;
  std::unique_ptr<broker::SessionCache> sessions;
  // With --pubsub redis: the same history, as what must be started; anycable-rails' redisx
  // broadcasts (XADD __anycable__), read by one node each.
  broker::RedisHistory* redis_history = nullptr;
  std::unique_ptr<broker::RedisxConsumer> redisx;

  // Connects what needs a connection before the adapter delivers (the broker loop runs; not on
  // it). Errors: the Redis history's (refused, too old).
  boost::system::result<void> start();

  // What every loop's sessions see of them.
  session::BrokerEnvironment environment(const ExtendedProtocolOptions& options) const;
  // Shutdown, on the thread that runs the server, before the broker loop stops.
  void stop();
};

// `broker_io`: the broker loop (Redis stores run their connections there; memory ones their
// timers). `adapter`: the pub/sub adapter in use, which must outlive the stores.
boost::system::result<BrokerStores> make_broker_stores(const ServerOptions& options,
                                                       pubsub::Adapter& adapter,
                                                       boost::asio::io_context& broker_io);

// Presence events become broadcasts: {"type":"presence","identifier":…,"message":{"type":
// "join",…}} on the stream, transient (never in history).
void publish_presence_event(pubsub::Adapter& adapter, const broker::PresenceEvent& event);

}  // namespace cablecast::server
