#pragma once
// The health canary: every `interval` this node publishes a small message on a private stream
// through the active pub/sub adapter and listens for it through its hub, like any broadcast.
// A canary that has not come back when the next one is due was lost: the link to the broker is
// silently broken (a paused broker, a half-open connection, a subscription the broker dropped),
// so the adapter is told to reconnect. /health reads report().
//
// The stream is "__cablecast_health__:<128 random bits>": unique per node (only this node listens
// to it) and not guessable by a client. The canary is transient (never in stream history) and
// one small message per interval: no measurable cost.
//
// Threads: start(), stop(), the timer and on_stream_message run on the shard's loop; report()
// on any thread.
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "hub/hub.hpp"
#include "pubsub/adapter.hpp"
#include "server/health_state.hpp"

namespace cablecast::server {

class HealthCanary final : public hub::Listener {
 public:
  HealthCanary(hub::HubShard& shard, pubsub::Adapter& adapter, std::chrono::milliseconds interval);
  ~HealthCanary();
  HealthCanary(const HealthCanary&) = delete;
  HealthCanary& operator=(const HealthCanary&) = delete;

  // On the shard's loop: listens on the private stream; the first canary leaves once the broker
  // confirmed it, then one per interval.
  void start();
  // On the shard's loop: stops the timer and leaves the stream (at shutdown).
  void stop();

  CanaryReport report() const;
  const std::string& stream() const { return stream_; }
  std::chrono::milliseconds interval() const { return interval_; }

  void on_stream_message(std::string_view message) override;  // hub::Listener

 private:
  void arm();
  void tick();

  hub::HubShard& shard_;
  pubsub::Adapter& adapter_;
  const std::chrono::milliseconds interval_;
  const std::string stream_;
  boost::asio::steady_timer timer_;
  bool running_ = false;
  // Liveness token for the listen confirmation, which may come after stop().
  std::shared_ptr<HealthCanary*> self_;
  mutable std::mutex mutex_;
  CanaryTracker tracker_;  // guarded by mutex_ (written on the loop, read by /health)
};

}  // namespace cablecast::server
