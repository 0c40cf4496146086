#pragma once
// What every session of one event loop shares: the loop, its hub shard, the registry of channel
// classes, the connect hook, the blocking pool, and the loop's list of sessions.
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/intrusive/list.hpp>
#include <cablecast/channel.hpp>
#include <cablecast/connection.hpp>
#include <atomic>
#include <functional>
#include <string>
#include <unordered_map>

#include "hub/hub.hpp"
#include "pubsub/adapter.hpp"

namespace cablecast::session {

class Session;

using ChannelRegistry =
    std::unordered_map<std::string, detail::ChannelClass, hub::StringHash, std::equal_to<>>;
using ConnectHook = std::function<ConnectResult(const ConnectionRequest&)>;
using SessionList =
    boost::intrusive::list<Session, boost::intrusive::constant_time_size<true>>;

struct SessionLimits {
  // Commands queued while a subscription waits for its confirmation (strict ordering) may
  // hold at most this many bytes; a client that floods past it is closed (1008).
  std::size_t max_backlog_bytes = 1024 * 1024;
};

struct Environment {
  boost::asio::io_context& io;
  hub::HubShard& hub;
  pubsub::Adapter& adapter;
  const ChannelRegistry& channels;
  const ConnectHook& connect;
  boost::asio::thread_pool& blocking;
  SessionList& sessions;  // welcomed sessions of this loop: pings and shutdown walk it
  std::atomic<std::size_t>& open_sessions;  // welcomed sessions, all loops (for stats)
  SessionLimits limits;
};

}  // namespace cablecast::session
