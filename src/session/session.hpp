#pragma once
// One client's Action Cable state: identification, the welcome, its subscriptions, and the
// strict in-order handling of its commands.
//
// Ordering: commands run one at a time in arrival order. While a subscription waits for its
// confirmation (a stream not yet live on the broker, a blocking job of subscribed()), later
// commands wait in a bounded backlog. So a client always sees confirm_subscription before
// anything sent because of a later command. (Rails runs commands on a thread pool and may
// reorder them; this is one of our documented improvements.)
#include <boost/intrusive/list.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/line_budget.hpp"
#include "session/environment.hpp"
#include "ws/transport.hpp"

namespace cablecast::session {

class Subscription;

class Session final : public ws::MessageHandler, public boost::intrusive::list_base_hook<> {
 public:
  Session(Environment& env, ws::Transport& transport);
  ~Session() override;

  // ws::MessageHandler
  void on_open(const ws::UpgradeInfo& info) override;
  void on_text(std::string_view message) override;
  void on_closed() override;

  // Loop-wide actions (heartbeat, shutdown).
  void send(const SharedFrame& frame) { transport_.send(frame); }
  // Sends {"type":"disconnect","reason":…,"reconnect":…} and closes the socket (1000).
  void disconnect(std::string_view reason, bool reconnect);

  // For subscriptions.
  Environment& env() { return env_; }
  const boost::json::object& identifiers() const { return identifiers_; }
  void transmit_json(std::string_view json);
  // A subscription finished subscribing (confirmed, or rejected and stopped).
  void on_subscription_settled(Subscription& subscription);
  // For subscriptions: whether a line about this client's bad input may be logged.
  bool log_bad_input() { return bad_input_log_.allow(); }

 private:
  void process(std::string_view frame);
  void subscribe(std::string identifier);
  void unsubscribe(const std::string& identifier);
  void perform(const std::string& identifier, std::string_view data);
  void drain_backlog();
  bool over_rate_limit();
  // What a backlog entry of `size` bytes of text holds: the text and its string.
  static std::size_t backlog_cost(std::size_t size) { return size + sizeof(std::string); }
  std::shared_ptr<Subscription>* find(std::string_view identifier);

  Environment& env_;
  ws::Transport& transport_;
  boost::json::object identifiers_;
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
  // Commands that arrived while `waiting_on_` was still subscribing, oldest first.
  std::vector<std::string> backlog_;
  std::size_t backlog_head_ = 0;
  std::size_t backlog_bytes_ = 0;
  Subscription* waiting_on_ = nullptr;
  std::uint32_t rate_window_ = 0;  // the second (steady clock) commands are being counted in
  std::uint32_t rate_count_ = 0;   // commands received in that second
  log::LineBudget bad_input_log_;
  bool welcomed_ = false;
  bool closed_ = false;
  bool draining_ = false;
};

}  // namespace cablecast::session
