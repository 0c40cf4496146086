#pragma once
// The node's health, as /health and /ready answer it (docs/health.md): the canary, the RPC probe
// (with --rpc-url), the start-up wait for the broker (--pubsub-wait), and the started/draining
// state, judged by server/health_state.hpp.
//
// Threads: start() and stop() on the canary's loop (loop 0); begin_drain(), the answers and
// everything else on any thread.
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "broker/history.hpp"
#include "hub/hub.hpp"
#include "pubsub/adapter.hpp"
#include "server/health_canary.hpp"
#include "server/rpc_probe.hpp"

namespace cablecast::server {

struct HealthOptions {
  std::chrono::milliseconds interval{2000};  // between canaries, and between RPC probes
  std::string rpc_url;                       // probed when set
  // How long the broker may stay unreachable after start before the node gives up; 0: forever.
  std::chrono::seconds pubsub_wait{0};
};

class HealthMonitor {
 public:
  // `shard`: the hub shard of the loop the canary and probes run on.
  HealthMonitor(HealthOptions options, pubsub::Adapter& adapter, hub::HubShard& shard);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // On the shard's loop: the node serves from now on. `give_up(reason)` runs there if the
  // broker is still not connected after pubsub_wait (the server then stops with that error).
  void start(std::function<void(std::string reason)> give_up);
  // On the shard's loop, at shutdown: cancels the canary, the probe and the wait.
  void stop();
  // Any thread: the node is shutting down; /ready and /health answer 503 from now on.
  void begin_drain() { draining_ = true; }
  // Before start(): the stream history store, whose own broker connection must be up too (a
  // broadcast with history on goes through it, not through the adapter). Null: none.
  void watch_history(const broker::History* history) { history_ = history; }

  // Complete HTTP responses (status line, JSON body). Any thread.
  std::string health_response() const;
  std::string ready_response() const;

 private:
  HealthInputs inputs() const;
  void watch_broker();

  const HealthOptions options_;
  pubsub::Adapter& adapter_;
  HealthCanary canary_;
  std::unique_ptr<RpcProbe> rpc_probe_;  // null without --rpc-url
  const broker::History* history_ = nullptr;
  boost::asio::steady_timer broker_watch_;
  std::chrono::steady_clock::time_point wait_deadline_{};
  std::function<void(std::string)> give_up_;
  std::atomic<bool> started_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace cablecast::server
