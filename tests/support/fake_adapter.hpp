#pragma once
// A pub/sub adapter for unit tests: records every call and lets the test decide when the
// "broker" confirms a subscription, so deferral and ordering rules can be exercised.
// Rails' internal broadcastings ("action_cable/…", one per identified connection, for remote
// disconnects) are confirmed at once and recorded apart, so tests about channel streams see
// only those, in their order.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "pubsub/adapter.hpp"

namespace cablecast::testing {

class FakeAdapter final : public pubsub::Adapter {
 public:
  bool confirm_at_once = true;

  boost::system::result<void> start(pubsub::DeliverFn deliver, boost::asio::io_context&) override {
    deliver_ = std::move(deliver);
    return {};
  }
  void subscribe(const std::string& stream, pubsub::ReadyFn on_ready) override {
    if (stream.starts_with("action_cable/")) {
      internal_subscribes.push_back(stream);
      return on_ready({});
    }
    subscribes.push_back(stream);
    if (confirm_at_once) {
      on_ready({});
    } else {
      pending.emplace_back(stream, std::move(on_ready));
    }
  }
  void unsubscribe(const std::string& stream) override {
    (stream.starts_with("action_cable/") ? internal_unsubscribes : unsubscribes).push_back(stream);
  }
  boost::system::result<void> publish(std::string_view stream, std::string_view payload) override {
    published.emplace_back(std::string(stream), std::string(payload));
    if (deliver_) deliver_(stream, std::make_shared<const std::string>(payload));
    return {};
  }
  void stop() override {}
  std::string_view name() const override { return "fake"; }

  // Confirms the oldest pending subscription (with `ec` to simulate a broker failure).
  void confirm_next(boost::system::error_code ec = {}) {
    auto [stream, ready] = std::move(pending.front());
    pending.erase(pending.begin());
    ready(ec);
  }

  std::vector<std::string> subscribes;
  std::vector<std::string> unsubscribes;
  std::vector<std::pair<std::string, std::string>> published;
  std::vector<std::pair<std::string, pubsub::ReadyFn>> pending;
  std::vector<std::string> internal_subscribes;
  std::vector<std::string> internal_unsubscribes;

 private:
  pubsub::DeliverFn deliver_;
};

}  // namespace cablecast::testing
