#pragma once
// One subscription: a channel instance plus everything it started (streams, timers, blocking
// jobs), and the confirmation rule: confirm_subscription goes out only once subscribed() has
// returned and every stream it asked for is live on the broker (Rails' deferral counter);
// what the channel transmitted meanwhile goes first, stream deliveries after.
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <cablecast/channel.hpp>
#include <memory>
#include <string>
#include <vector>

#include "channel/channel_context.hpp"
#include "hub/hub.hpp"

namespace cablecast::session {

class Session;

class Subscription final : public detail::ChannelContext,
                           public hub::Subscriber,
                           public std::enable_shared_from_this<Subscription> {
 public:
  enum class Phase : std::uint8_t { subscribing, confirmed, stopped };

  Subscription(Session& session, std::string identifier, const detail::ChannelClass& cls,
               boost::json::object params);
  ~Subscription();

  // Creates the channel and runs subscribed(). Ends in confirm or reject, now or later; the
  // session hears of it through Session::on_subscription_settled.
  void start();
  // A "message" command for this subscription.
  void perform(const boost::json::object& data);
  // Runs unsubscribed() (once) and stops every stream and timer. Idempotent.
  void stop();

  Phase phase() const { return phase_; }
  const detail::ChannelClass& channel_class() const override { return class_; }

  // hub::Subscriber
  std::string_view identifier() const override { return identifier_; }
  void deliver(const SharedFrame& frame) override;

  // detail::ChannelContext
  const boost::json::object& params() const override { return params_; }
  const std::string& identifier_string() const override { return identifier_; }
  const boost::json::object& connection_identifiers() const override;
  void reject() override;
  bool rejected() const override { return rejected_; }
  void stream_from(std::string_view broadcasting) override;
  void stop_stream_from(std::string_view broadcasting) override;
  void stop_all_streams() override;
  void transmit(std::string message_json) override;
  bool broadcast(std::string_view broadcasting, std::string payload_json) override;
  void periodically(std::chrono::milliseconds interval, std::function<void()> tick) override;
  void run_blocking(std::function<std::function<void()>()> job) override;

 private:
  void hold() { ++pending_; }
  void release();  // one pending thing finished: maybe confirm or reject now
  void on_stream_ready(boost::system::error_code ec, const std::string& stream);
  void arm(std::size_t timer_index, std::chrono::milliseconds interval);
  template <class F>
  bool guarded(const char* what, F&& f);  // runs channel code; logs exceptions

  Session& session_;
  std::string identifier_;
  const detail::ChannelClass& class_;
  boost::json::object params_;
  std::unique_ptr<Channel> channel_;
  std::vector<std::string> streams_;
  struct Timer {
    boost::asio::steady_timer timer;
    std::function<void()> tick;
  };
  std::vector<std::unique_ptr<Timer>> timers_;
  std::vector<SharedFrame> early_;  // stream frames that arrived before the confirmation
  int pending_ = 0;                 // streams not yet live + blocking jobs of subscribed()
  Phase phase_ = Phase::subscribing;
  bool rejected_ = false;
};

}  // namespace cablecast::session
