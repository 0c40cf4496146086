#pragma once
// One event loop: a thread running an io_context, with its own hub shard, connections and
// sessions. Everything a loop owns is touched only by its thread; other threads reach it by
// posting (broadcasts, accepted sockets, shutdown).
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <thread>

#include "server/metered_rpc_backend.hpp"
#include "server/router.hpp"
#include "session/environment.hpp"
#include "session/heartbeat_ring.hpp"
#include "session/session.hpp"
#include "ws/connection_set.hpp"

namespace cablecast::server {

struct LoopShared {
  const session::ChannelRegistry& channels;
  const session::ConnectHook& connect;
  pubsub::Adapter& adapter;
  hub::Hub& hub;
  boost::asio::thread_pool& blocking;
  const RouterOptions& router_options;
  ws::ConnectionLimits limits;
  std::chrono::milliseconds ping_interval;
  std::atomic<std::size_t>& open_sessions;
  session::SessionLimits session_limits;
  std::shared_ptr<const ws::TlsContext> tls;     // null: plain ws://
  bool batch_sends = true;                       // io_uring for each loop turn's sends, if allowed
  rpc::Backend* rpc = nullptr;                   // the application over RPC (--rpc-url), if any
  std::vector<std::string> rpc_forward_headers;  // lower-case header names for env.headers
  session::JwtEnvironment jwt;                   // token identification, if configured
  session::BrokerEnvironment broker;             // history, presence, sessions (ext protocol)
};

class Loop {
 public:
  // `metrics`: this loop's counters, owned by the server (they outlive the loop and its shard).
  Loop(unsigned index, LoopShared shared, metrics::LoopMetrics& metrics);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  boost::asio::io_context& io() { return io_; }
  // Before start(): the loop's thread runs only on `cpu` (--pin-threads).
  void pin_to(int cpu) { cpu_ = cpu; }
  void start();  // starts the thread
  void join();

  // On this loop's thread: hands an accepted socket to the connection layer.
  void adopt(ws::Socket socket) { connections_->adopt(std::move(socket)); }
  // Whether this loop batches its sends with io_uring; if not although asked, why.
  bool batch_sends_active() const { return connections_->batch_sends_active(); }
  const std::string& batch_sends_unavailable() const {
    return connections_->batch_sends_unavailable();
  }
  // From any thread: new connections of this loop use `tls` (the old one lives on with the
  // connections that use it).
  void set_tls(std::shared_ptr<const ws::TlsContext> tls);

  // Posts the graceful shutdown: every session gets server_restart and a close; the loop ends
  // when all connections are gone or at `deadline` (then the rest are aborted).
  void shutdown(std::chrono::steady_clock::time_point deadline);

  // Runs on this loop when its shutdown completes (the server cancels what it keeps on the
  // loop, such as the signal handler), so that run() can return. Set before start().
  void at_finish(std::function<void()> callback) { at_finish_ = std::move(callback); }

 private:
  void arm_ping();
  void ping_due_slice();
  void watch_shutdown(std::chrono::steady_clock::time_point deadline);
  void finish();

  unsigned index_;
  LoopShared shared_;
  metrics::LoopMetrics& metrics_;
  // Declared before io_: destroyed after it, and after every session that holds an identifier.
  session::IdentifierPool identifiers_;
  boost::asio::io_context io_{1};  // one thread: Asio may skip its internal locking
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  hub::HubShard& shard_;
  session::HeartbeatRing sessions_;
  std::unique_ptr<MeteredRpcBackend> rpc_;  // counts this loop's calls; null without RPC
  session::Environment env_;
  Router router_;
  std::unique_ptr<ws::ConnectionSet> connections_;
  boost::asio::steady_timer ping_timer_;
  std::chrono::steady_clock::time_point next_ping_;  // ticks on a fixed grid: no drift
  bool pings_stopped_ = false;                       // shutdown: no tick arms another
  boost::asio::steady_timer shutdown_timer_;
  std::function<void()> at_finish_;
  bool finished_ = false;
  std::optional<int> cpu_;  // pinned to this CPU, if set
  std::thread thread_;
};

}  // namespace cablecast::server
