#pragma once
// A subscription served by a C++ channel class registered with Server::channel<T>() (the
// demo channels and the built-in $pubsub / Turbo::StreamsChannel too): the channel object,
// its timers and blocking jobs. The channel reaches back through detail::ChannelContext.
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <cablecast/channel.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "channel/channel_context.hpp"
#include "session/subscription.hpp"

namespace cablecast::session {

class ChannelSubscription final : public Subscription, public detail::ChannelContext {
 public:
  ChannelSubscription(Session& session, std::string identifier, const detail::ChannelClass& cls,
                      boost::json::object params);
  ~ChannelSubscription() override;

  // Creates the channel and runs subscribed().
  void start() override;
  // Parses `data` and runs the action it names (Rails: a missing "action" means "receive").
  void perform(std::string_view data) override;

  // detail::ChannelContext
  const detail::ChannelClass& channel_class() const override { return class_; }
  // Parsed from the identifier on first use in a callback, dropped when the callback returns.
  const boost::json::object& params() const override;
  const std::string& identifier_string() const override {
    return Subscription::identifier_string();
  }
  const boost::json::object& connection_identifiers() const override;
  void reject() override { mark_rejected(); }
  bool rejected() const override { return is_rejected(); }
  void stream_from(std::string_view broadcasting) override { add_stream(broadcasting); }
  void stream_from(std::string_view broadcasting, StreamOptions options) override;
  void stop_stream_from(std::string_view broadcasting) override { remove_stream(broadcasting); }
  void stop_all_streams() override { remove_all_streams(); }
  void transmit(std::string message_json) override;
  bool broadcast(std::string_view broadcasting, std::string payload_json) override;
  void periodically(std::chrono::milliseconds interval, std::function<void()> tick) override;
  void run_blocking(std::function<std::function<void()>()> job) override;

 private:
  void on_stop(StopCause cause) override;
  std::string_view source_name() const override { return class_.name; }
  void arm(std::size_t timer_index, std::chrono::milliseconds interval);
  template <class F>
  bool guarded(const char* what, F&& f);  // runs channel code; logs exceptions

  const detail::ChannelClass& class_;
  // The identifier's params and the connection's identifiers, decoded only while channel code
  // runs: kept for the life of an idle subscription they cost ~200 B and ~120 B of heap
  // (objects, strings, malloc headers) per connection, while re-parsing typical ones costs well
  // under a microsecond. One pointer for both: the subscription stays in its malloc size class.
  struct Decoded {
    std::optional<boost::json::object> params;
    std::optional<boost::json::object> identifiers;
  };
  Decoded& decoded() const;
  mutable std::unique_ptr<Decoded> decoded_;
  std::unique_ptr<Channel> channel_;
  struct Timer {
    boost::asio::steady_timer timer;
    std::function<void()> tick;
  };
  std::vector<std::unique_ptr<Timer>> timers_;
};

}  // namespace cablecast::session
