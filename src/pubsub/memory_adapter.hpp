#pragma once
// The default adapter: one process, nothing to install. A publish is handed straight to this
// node's hub, which posts it to every event loop.
#include <atomic>

#include "pubsub/adapter.hpp"

namespace cablecast::pubsub {

class MemoryAdapter final : public Adapter {
 public:
  boost::system::result<void> start(DeliverFn deliver, boost::asio::io_context& io) override;
  void subscribe(const std::string& stream, ReadyFn on_ready) override;
  void unsubscribe(const std::string& stream) override;
  boost::system::result<void> publish(std::string_view stream, std::string_view payload) override;
  void stop() override;
  std::string_view name() const override { return "memory"; }

 private:
  DeliverFn deliver_;
  std::atomic<bool> running_{false};
};

}  // namespace cablecast::pubsub
