#pragma once
// What every session of one event loop shares: the loop, its hub shard, the registry of channel
// classes, the connect hook, the blocking pool, and the loop's list of sessions.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cablecast/channel.hpp>
#include <cablecast/connection.hpp>
#include <cablecast/defaults.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broadcast/publication.hpp"
#include "broker/history.hpp"
#include "broker/presence.hpp"
#include "broker/session_cache.hpp"
#include "core/line_budget.hpp"
#include "core/loop_metrics.hpp"
#include "hub/hub.hpp"
#include "pubsub/adapter.hpp"
#include "rpc/backend.hpp"
#include "session/heartbeat_ring.hpp"
#include "session/identifier_pool.hpp"

namespace cablecast::session {

class Session;

using ChannelRegistry =
    std::unordered_map<std::string, detail::ChannelClass, hub::StringHash, std::equal_to<>>;
using ConnectHook = std::function<ConnectResult(const ConnectionRequest&)>;

struct SessionLimits {
  // Commands queued while a subscription waits for its confirmation (strict ordering) may
  // hold at most this many bytes; a client that floods past it is closed (1008).
  std::size_t max_backlog_bytes = 1024 * 1024;
  // Total bytes of the identifiers of one connection's subscriptions; a subscribe beyond it is
  // rejected. Real identifiers are ~100 bytes (a few KiB for signed stream names), so only a
  // client that pads them meets it; without it 512 subscriptions of 1 MiB identifiers would
  // hold gigabytes.
  std::size_t max_identifier_bytes = 64 * 1024;
  // Subscriptions one connection may hold; a subscribe beyond it is rejected. A page rarely
  // needs more than a few dozen; the bound keeps one client from growing the hub without limit.
  std::size_t max_subscriptions = defaults::max_subscriptions;
  // Commands accepted per connection per second; 0 = no limit (as Rails and AnyCable: busy
  // clients and benchmarks send thousands). Over it: close 1008.
  std::uint32_t max_commands_per_second = defaults::max_commands_per_second;
};

// The application behind the server (--rpc-url), shared by the loop's sessions.
struct RpcEnvironment {
  rpc::Backend* backend = nullptr;           // null: no RPC; unknown channels are rejected
  std::vector<std::string> forward_headers;  // lower-case names copied into env.headers
  bool tls = false;                          // the env URL's scheme: https or http
  log::LineBudget failures;                  // lines about failed calls, for the whole loop
};

// AnyCable's JWT identification (--jwt-secret): a token identifies the connection with no
// connect call.
struct JwtEnvironment {
  std::string secret;         // empty: off
  std::string param = "jid";  // query parameter; the header is X-<param>
  bool enforce = false;       // no token: unauthorized
};

// AnyCable's extended protocol: history, presence, resumable sessions (broker/*.hpp). Null
// stores: that feature is off.
struct BrokerEnvironment {
  broker::History* history = nullptr;
  broker::Presence* presence = nullptr;
  broker::SessionCache* sessions = nullptr;
  std::chrono::seconds history_ttl{300};   // a stream with nothing kept had nothing this long
  std::chrono::seconds sessions_ttl{300};  // how long a closed ext session can be restored
  std::uint32_t pong_timeout_seconds = 0;  // ext sessions must answer pings; 0: not required
  std::chrono::seconds restore_hold{5};    // a restored session's live messages wait this long
                                           // for the client's history request
};

struct Environment {
  boost::asio::io_context& io;
  hub::HubShard& hub;
  pubsub::Adapter& adapter;
  const ChannelRegistry& channels;
  const ConnectHook& connect;
  boost::asio::thread_pool& blocking;
  HeartbeatRing& sessions;      // welcomed sessions of this loop: pings and shutdown walk it
  IdentifierPool& identifiers;  // one copy of each subscription identifier in use
  // Live WebSocket sessions of all loops (from the upgrade until destroyed): the figure
  // --max-connections is checked against, and Server::connection_count().
  std::atomic<std::size_t>& open_sessions;
  SessionLimits limits;
  RpcEnvironment rpc;
  JwtEnvironment jwt;
  BrokerEnvironment broker;
  metrics::LoopMetrics& metrics;  // this loop's counters (written on this loop only)
};

// Publishes a broadcast from this node: through history when it should enter it (not transient,
// history on), else through the adapter as is (meta in the envelope when it matters). Counted as
// a broadcast from source "channel" once it left.
boost::system::result<void> publish(Environment& env, std::string_view stream,
                                    std::string_view message, const broadcast::Meta& meta = {});

}  // namespace cablecast::session
