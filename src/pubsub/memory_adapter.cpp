#include "pubsub/memory_adapter.hpp"

#include <boost/system/errc.hpp>

namespace cablecast::pubsub {

boost::system::result<void> MemoryAdapter::start(DeliverFn deliver, boost::asio::io_context&) {
  deliver_ = std::move(deliver);
  running_ = true;
  return {};
}

// In one process there is no broker to wait for: a subscription is live at once.
void MemoryAdapter::subscribe(const std::string&, ReadyFn on_ready) { on_ready({}); }

void MemoryAdapter::unsubscribe(const std::string&) {}

boost::system::result<void> MemoryAdapter::publish(std::string_view stream,
                                                   std::string_view payload) {
  if (!running_) return boost::system::errc::make_error_code(boost::system::errc::not_connected);
  deliver_(stream, std::make_shared<const std::string>(payload));
  return {};
}

void MemoryAdapter::stop() { running_ = false; }

}  // namespace cablecast::pubsub
