#pragma once
// One client's Action Cable state: identification, the welcome, its subscriptions, and the
// strict in-order handling of its commands.
//
// Ordering: commands run one at a time in arrival order. While something a command started is
// still pending (an RPC connect or command call, a subscription waiting for its confirmation:
// a stream not yet live on the broker, a blocking job of subscribed()), later commands wait in
// a bounded backlog. So a client always sees confirm_subscription before anything sent because
// of a later command. (Rails runs commands on a thread pool and may reorder them; this is one
// of our documented improvements.)
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/compact_text.hpp"
#include "core/line_budget.hpp"
#include "protocol/command.hpp"
#include "rpc/messages.hpp"
#include "session/environment.hpp"
#include "session/history_fetch.hpp"
#include "session/session_id.hpp"
#include "ws/transport.hpp"

namespace cablecast::session {

class Subscription;
struct SavedSubscription;
struct RpcLink;

class Session final : public ws::MessageHandler, public hub::Listener, public SessionHook {
 public:
  Session(Environment& env, ws::Transport& transport);
  ~Session() override;

  // ws::MessageHandler
  void on_open(const ws::UpgradeInfo& info) override;
  void on_text(std::string_view message) override;
  void on_closed() override;

  // Loop-wide actions (heartbeat, shutdown).
  void send(const SharedFrame& frame) { transport_.send(frame); }
  // After each ping (every few seconds): ends a restored session's hold that the client never
  // asked history for, and closes an ext session that answered no ping for --pong-timeout.
  void on_heartbeat(std::uint32_t now_seconds);
  // The client speaks AnyCable's extended protocol (actioncable-v1-ext-json).
  bool extended() const { return extended_; }
  // Sends {"type":"disconnect","reason":…,"reconnect":…} and closes the socket (1000).
  void disconnect(std::string_view reason, bool reconnect);

  // For subscriptions.
  Environment& env() { return env_; }
  // The connection's id in logs, for completions that resume outside its handlers (RPC
  // replies, timers, blocking work): they open a log::ConnectionScope with it. None once
  // closed (the transport is gone).
  log::ConnectionId log_id() const { return closed_ ? log::ConnectionId{} : transport_.log_id(); }
  const SessionId& sid() const { return sid_; }
  // Who the connection is (the connect hook's, the application's or the token's identifiers),
  // as JSON text: "{}" when anonymous. The application's and the token's text is kept verbatim:
  // RPC calls hand it back to the application as it gave it.
  std::string_view identifiers_json() const {
    return identifiers_json_.empty() ? std::string_view("{}") : identifiers_json_.view();
  }
  // The same, parsed (a new object each call): an idle connection keeps the text only (issue
  // 12: a parsed object was ~120 B of every connection). C++ channels read it through
  // connection_identifiers(), which keeps it while their callback runs.
  boost::json::object identifiers() const;
  void transmit_json(std::string_view json);
  // A subscription finished subscribing (confirmed, or rejected and stopped).
  void on_subscription_settled(Subscription& subscription);
  // For subscriptions: whether a line about this client's bad input may be logged.
  bool log_bad_input() { return bad_input_log_.allow(); }

  // For RPC subscriptions. One command call, in the connection's command order: later
  // commands wait until `then` has run. `then` runs on this loop, and only while the session
  // is open (a reply for a closed connection is dropped).
  using CommandThen = std::function<void(boost::system::result<rpc::CommandResponse>)>;
  void rpc_command(std::string command, const std::string& identifier, std::string data,
                   const rpc::StringMap& istate, CommandThen then);
  // Frames the application sent, forwarded verbatim.
  void forward_transmissions(const std::vector<std::string>& transmissions);
  void merge_connection_state(const rpc::StringMap& changes);
  // A reply asked to close the connection (after its transmissions).
  void disconnect_after_reply();
  // One line per failed call, budgeted per loop: a backend outage is one cause, not a flood.
  void log_rpc_failure(std::string_view call, std::string_view identifier, std::string_view reason);

 private:
  // Frames `json` (one text frame) and queues it: what every protocol reply of the session does.
  void send_text(std::string_view json);
  void identify(const ws::UpgradeInfo& info);
  void send_welcome_frame();
  void connect_over_rpc();
  void on_rpc_connected(boost::system::result<rpc::ConnectionResponse> reply);
  // Identified: the session joins the loop's list (pings, shutdown). Sends no frame.
  // `as_text`: the identifiers' own text when they came as text (the application's, a token's);
  // empty: serialized from `identifiers`.
  void welcome(const boost::json::object& identifiers, std::string as_text = {});
  // Rails' internal channel (session/internal_channel.cpp): an identified connection listens on
  // its internal broadcasting, where remote disconnects arrive.
  void join_internal_channel(const boost::json::object& identifiers);
  void leave_internal_channel();
  void on_stream_message(std::string_view message) override;  // hub::Listener
  void process(std::string_view frame);
  void subscribe(std::string identifier, std::optional<protocol::HistoryRequest> history = {},
                 std::optional<protocol::PresenceRequest> presence = {});
  void unsubscribe(const std::string& identifier);
  void perform(const std::string& identifier, std::string_view data);

  // AnyCable's extended commands (session/session_ext.cpp).
  void process_extended(protocol::Command& command);
  // A confirmed subscription's history (a "history" command, or "history" in "subscribe"):
  // later commands and the subscription's live messages wait until it is sent.
  void send_history(const std::shared_ptr<Subscription>& subscription,
                    protocol::HistoryRequest request);
  void deliver_history(Subscription& subscription, HistoryOutcome outcome);
  void whisper(const std::string& identifier, std::string_view data);
  void join_presence(Subscription& subscription, protocol::PresenceRequest presence);
  void leave_presence(Subscription& subscription, bool at_once);
  void presence_info(const std::string& identifier);
  // What a subscription that settled asked for along with its subscribe.
  void after_subscribe(const std::shared_ptr<Subscription>& subscription);

  // Resumable sessions (session/session_restore.cpp).
  struct PendingRestore;
  std::optional<std::string> restore_sid(const ws::UpgradeInfo& info) const;
  void begin_restore(const ws::UpgradeInfo& info, std::string old_sid);
  void on_restore_state(std::optional<std::string> state);
  void take_over_presence(Subscription& subscription, SavedSubscription& saved,
                          const std::string& old_sid);
  // Saves this ext session's state under its sid (subscriptions changed, or it closed).
  void save_state(bool closing = false);
  // Drops what save_state() kept: the server closed this session with a disconnect frame.
  void forget_state();
  // Command processing waits while anything is held (see "Ordering" above).
  void hold_commands() { ++held_; }
  void resume_commands();
  void drain_backlog();
  bool over_rate_limit();
  void tell_application_of_close();
  // What a backlog entry of `size` bytes of text holds: the text and its string.
  static std::size_t backlog_cost(std::size_t size) { return size + sizeof(std::string); }
  std::shared_ptr<Subscription>* find(std::string_view identifier);
  // The one place that picks a subscription's source (a new source is added here): a channel
  // class registered in C++ (the built-in $pubsub and Turbo channels included), else the
  // application over RPC when there is one and `rpc_allowed`; null when nothing serves it
  // (`parsed` is then left as it was, for the caller's log line).
  std::shared_ptr<Subscription> make_subscription(const std::string& identifier,
                                                  protocol::ChannelIdentifier&& parsed,
                                                  bool rpc_allowed);
  // A handle for asynchronous replies: empty once the session is gone.
  std::weak_ptr<Session*> weak_self();

  Environment& env_;
  ws::Transport& transport_;
  core::CompactText identifiers_json_;  // empty: none yet, or "{}" (see identifiers_json())
  std::vector<std::shared_ptr<Subscription>> subscriptions_;
  std::unique_ptr<RpcLink> rpc_;    // only on servers with an RPC backend
  std::shared_ptr<Session*> self_;  // made on the first asynchronous call
  // Commands that arrived while something was held, oldest first. Made when the first one
  // waits, freed once drained: an idle session pays one pointer.
  struct Backlog {
    std::vector<std::string> commands;
    std::size_t head = 0;   // next command to process
    std::size_t bytes = 0;  // backlog_cost() of those not processed yet
  };
  std::unique_ptr<Backlog> backlog_;
  std::uint32_t held_ = 0;
  std::uint32_t rate_window_ = 0;  // the second (steady clock) commands are being counted in
  std::uint32_t rate_count_ = 0;   // commands received in that second
  log::LineBudget bad_input_log_;
  SessionId sid_;
  std::unique_ptr<PendingRestore> restore_;  // the upgrade request, while a restore is looked up
  std::uint32_t awaiting_pong_since_ = 0;    // ext + --pong-timeout: a ping not answered yet
  std::uint32_t restored_at_ = 0;            // restored subscriptions hold live messages
  bool extended_ = false;
  bool resumable_ = true;  // false once the server sent disconnect: nothing to restore then
  bool welcomed_ = false;
  bool connecting_ = false;  // identification is pending (an RPC connect call)
  bool closed_ = false;
  bool draining_ = false;
  bool internal_channel_ = false;  // listening on its internal broadcasting
};

}  // namespace cablecast::session
