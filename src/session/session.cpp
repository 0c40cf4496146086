#include "session/session.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <ctime>
#include <exception>
#include <optional>

#include "auth/jwt.hpp"
#include "core/assert.hpp"
#include "core/log.hpp"
#include "protocol/command.hpp"
#include "protocol/encode.hpp"
#include "session/channel_subscription.hpp"
#include "session/connection_request.hpp"
#include "session/pending_restore.hpp"
#include "session/rpc_link.hpp"
#include "session/rpc_subscription.hpp"
#include "ws/frame.hpp"
#include "ws/frame_encoder.hpp"

namespace cablecast::session {

using protocol::CommandType;

namespace {
// The label a command is counted under (cablecast_commands_received_total{type}).
metrics::CommandKind command_kind(CommandType type) {
  using K = metrics::CommandKind;
  switch (type) {
    case CommandType::subscribe:
      return K::subscribe;
    case CommandType::unsubscribe:
      return K::unsubscribe;
    case CommandType::message:
      return K::message;
    case CommandType::history:
      return K::history;
    case CommandType::join:
      return K::join;
    case CommandType::leave:
      return K::leave;
    case CommandType::presence:
      return K::presence;
    case CommandType::whisper:
      return K::whisper;
    case CommandType::pong:
      return K::pong;
    case CommandType::ping:
      return K::ping;
  }
  return K::invalid;
}
}  // namespace

Session::Session(Environment& env, ws::Transport& transport) : env_(env), transport_(transport) {
  env_.open_sessions.fetch_add(1, std::memory_order_relaxed);
}

Session::~Session() {
  unlink();  // from the heartbeat ring, if welcomed
  env_.open_sessions.fetch_sub(1, std::memory_order_relaxed);
}

std::weak_ptr<Session*> Session::weak_self() {
  if (!self_) self_ = std::make_shared<Session*>(this);
  return self_;
}

namespace {

// The env an RPC application sees: the upgrade request's absolute URL (Rails' request.url)
// and the forwarded headers, plus REMOTE_ADDR, as AnyCable sends them.
std::unique_ptr<RpcLink> make_rpc_link(const RpcEnvironment& rpc, const ws::UpgradeInfo& info) {
  auto link = std::make_unique<RpcLink>(RpcLink{*rpc.backend, {}, {}, {}, false});
  ConnectionRequest request = detail::ConnectionRequestFactory::make(info);
  std::string host = request.header("Host").value_or("localhost");
  link->url = (rpc.tls ? "https://" : "http://") + host + std::string(info.request.target());
  for (const auto& name : rpc.forward_headers) {
    if (auto value = request.header(name)) link->headers.emplace(name, std::move(*value));
  }
  link->headers.emplace("REMOTE_ADDR", std::string(info.remote_address));
  return link;
}

}  // namespace

void Session::on_open(const ws::UpgradeInfo& info) {
  sid_ = SessionId::generate();
  extended_ = info.subprotocol == "actioncable-v1-ext-json";
  if (env_.rpc.backend) rpc_ = make_rpc_link(env_.rpc, info);
  if (extended_ && env_.broker.sessions) {
    if (auto old_sid = restore_sid(info)) return begin_restore(info, std::move(*old_sid));
  }
  identify(info);
}

namespace {

// AnyCable's three places for a token: the query parameter, the header X-<PARAM>, or a
// sub-protocol "anycable-token.<token>" (for browsers, which cannot set headers).
std::optional<std::string> jwt_token(const ConnectionRequest& request, const std::string& param) {
  if (auto token = request.query(param); token && !token->empty()) return token;
  if (auto token = request.header("X-" + param); token && !token->empty()) return token;
  constexpr std::string_view kPrefix = "anycable-token.";
  auto protocols = request.header("Sec-WebSocket-Protocol");
  if (!protocols) return std::nullopt;
  std::string_view offered = *protocols;
  while (!offered.empty()) {
    auto comma = offered.find(',');
    std::string_view item = offered.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with(kPrefix) && item.size() > kPrefix.size()) {
      return std::string(item.substr(kPrefix.size()));
    }
    offered = comma == std::string_view::npos ? std::string_view{} : offered.substr(comma + 1);
  }
  return std::nullopt;
}

}  // namespace

// Who the client is, from the first source that answers: a JWT (no call at all), the C++
// connect hook (hybrid apps that authenticate natively), the application over RPC, or nobody
// (anonymous).
void Session::identify(const ws::UpgradeInfo& info) {
  if (!env_.jwt.secret.empty()) {
    ConnectionRequest request = detail::ConnectionRequestFactory::make(info);
    if (auto token = jwt_token(request, env_.jwt.param)) {
      auto identity = auth::verify_jwt(*token, env_.jwt.secret, std::time(nullptr));
      if (!identity) {
        CC_LOG_INFO("A connection's token was refused ({}; from {})", identity.error().message(),
                    info.remote_address);
        disconnect(auth::jwt_disconnect_reason(identity.error()), false);
        return;
      }
      welcome(identity->identifiers, std::move(identity->identifiers_json));
      // AnyCable's welcome for a token-identified connection carries the session id.
      send_text(fmt::format(R"({{"type":"welcome","sid":"{}"}})", sid_.view()));
      return;
    }
    if (env_.jwt.enforce) {
      CC_LOG_INFO("A connection without a token was refused (--enforce-jwt; from {})",
                  info.remote_address);
      disconnect("unauthorized", false);
      return;
    }
  }
  if (env_.connect) {
    ConnectionRequest request = detail::ConnectionRequestFactory::make(info);
    ConnectResult result = ConnectResult::reject();
    try {
      result = env_.connect(request);
    } catch (const std::exception& e) {
      CC_LOG_ERROR("The connect hook failed ({}): rejecting the connection", e.what());
    }
    if (!result.accepted()) {
      CC_LOG_INFO("An unauthorized connection attempt was rejected (from {})", info.remote_address);
      disconnect("unauthorized", false);
      return;
    }
    welcome(result.identifiers());
    send_welcome_frame();
    return;
  }
  if (rpc_) return connect_over_rpc();
  welcome({});
  send_welcome_frame();
}

// Rails' welcome is {"type":"welcome"}, and plain clients keep getting exactly that; an ext
// client needs its session id to come back with (AnyCable's welcome).
void Session::send_welcome_frame() {
  send_text(extended_ ? protocol::encode_welcome(sid_.view()) : protocol::encode_welcome());
}

void Session::connect_over_rpc() {
  connecting_ = true;
  hold_commands();  // commands sent before the welcome wait for it
  rpc_->used = true;
  rpc_->backend.connect(rpc::ConnectionRequest{rpc_->env()}, rpc::CallMeta{sid_.str()},
                        env_.io.get_executor(),
                        [weak = weak_self()](boost::system::result<rpc::ConnectionResponse> r) {
                          auto self = weak.lock();
                          if (!self) return;
                          log::ConnectionScope scope((*self)->log_id());
                          (*self)->on_rpc_connected(std::move(r));
                        });
}

void Session::on_rpc_connected(boost::system::result<rpc::ConnectionResponse> reply) {
  connecting_ = false;
  if (closed_) return;
  if (!reply || reply->status == rpc::Status::error) {
    // As AnyCable: an application that cannot answer closes the socket with 1011, no frame;
    // the client reconnects later.
    log_rpc_failure(
        "connect", {},
        reply ? std::string_view(reply->error_msg) : std::string_view(reply.error().message()));
    rpc_->used = false;  // never established: no disconnect call
    transport_.close(ws::close_code::internal_error, {});
    return;
  }
  if (reply->status == rpc::Status::failure) {
    CC_LOG_INFO("The application rejected a connection (sid {})", sid_.view());
    rpc_->used = false;
    forward_transmissions(reply->transmissions);  // its disconnect frame, as Rails sends
    transport_.close(ws::close_code::normal, {});
    return;
  }
  merge_state(rpc_->cstate, reply->env.cstate);
  boost::json::object identifiers;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(reply->identifiers, ec);
  if (!ec && parsed.is_object()) identifiers = std::move(parsed.get_object());
  // An application that identifies nobody may send nothing: "{}" then, as our own.
  welcome(identifiers, std::move(reply->identifiers));
  forward_transmissions(reply->transmissions);  // the application's welcome frame
  resume_commands();
}

void Session::send_text(std::string_view json) { transport_.send(ws::make_text_frame(json)); }

void Session::welcome(const boost::json::object& identifiers, std::string as_text) {
  if (as_text.empty()) as_text = boost::json::serialize(identifiers);
  identifiers_json_ = as_text == "{}" ? core::CompactText() : core::CompactText(as_text);
  welcomed_ = true;
  env_.sessions.add(*this);
  join_internal_channel(identifiers);
  CC_LOG_DEBUG("connection {} identified as {}", sid_.view(), log::clip(identifiers_json()));
}

boost::json::object Session::identifiers() const {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(identifiers_json(), ec);
  // The application's text may be any JSON (AnyCable passes it through): channel code, a
  // restore and remote disconnects see an object, empty if it was not one.
  if (ec || !parsed.is_object()) return {};
  return std::move(parsed.get_object());
}

void Session::disconnect(std::string_view reason, bool reconnect) {
  if (closed_) return;
  resumable_ = false;  // @anycable/core forgets its sid on any disconnect frame
  send_text(protocol::encode_disconnect(reason, reconnect));
  transport_.close(ws::close_code::normal, {});  // Rails closes with 1000 after disconnect
}

bool Session::over_rate_limit() {
  const std::uint32_t limit = env_.limits.max_commands_per_second;
  if (limit == 0) return false;
  auto now = static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::steady_clock::now().time_since_epoch())
                                            .count());
  if (now != rate_window_) {
    rate_window_ = now;
    rate_count_ = 0;
  }
  return ++rate_count_ > limit;
}

void Session::on_text(std::string_view message) {
  if (closed_ || (!welcomed_ && !connecting_)) return;
  awaiting_pong_since_ = 0;  // any command proves the client alive (AnyCable's keepalive)
  if (over_rate_limit()) {
    CC_LOG_WARN(
        "closing a connection that sent more than {} commands in one second "
        "(--max-commands-per-second)",
        env_.limits.max_commands_per_second);
    // The connection stops delivering messages once its close frame is queued.
    transport_.close(ws::close_code::policy_violation, "too many commands");
    return;
  }
  if (held_ > 0 || (backlog_ && backlog_->head < backlog_->commands.size())) {
    if (!backlog_) backlog_ = std::make_unique<Backlog>();
    // Each entry is charged what it holds, not only its text: empty messages are not free.
    const std::size_t cost = backlog_cost(message.size());
    if (backlog_->bytes + cost > env_.limits.max_backlog_bytes) {
      CC_LOG_WARN(
          "closing a connection that sent {} bytes of commands while an earlier one was "
          "pending (limit {})",
          backlog_->bytes + cost, env_.limits.max_backlog_bytes);
      transport_.close(ws::close_code::policy_violation, "too many pending commands");
      return;
    }
    backlog_->bytes += cost;
    backlog_->commands.emplace_back(message);
    return;
  }
  process(message);
}

void Session::process(std::string_view frame) {
  auto command = protocol::decode_command(frame);
  if (!command) {
    env_.metrics.commands.add(metrics::CommandKind::invalid);
    const auto ec = command.error();
    if (!bad_input_log_.allow()) return;
    if (ec == protocol::Error::unknown_command) {
      CC_LOG_ERROR("Received unrecognized command \"{}\" (unknown command) in {}",
                   log::clip(protocol::command_name(frame)), log::clip(frame));
    } else {
      CC_LOG_ERROR("Could not execute command from ({}) [{}]", log::clip(frame), ec.message());
    }
    return;
  }
  env_.metrics.commands.add(command_kind(command->type));
  switch (command->type) {
    case CommandType::subscribe:
      return subscribe(std::move(command->identifier), std::move(command->history),
                       std::move(command->presence));
    case CommandType::unsubscribe:
      return unsubscribe(command->identifier);
    case CommandType::message:
      return perform(command->identifier, command->data);
    default:
      return process_extended(*command);
  }
}

std::shared_ptr<Subscription> Session::make_subscription(const std::string& identifier,
                                                         protocol::ChannelIdentifier&& parsed,
                                                         bool rpc_allowed) {
  if (auto cls = env_.channels.find(parsed.channel); cls != env_.channels.end()) {
    return std::make_shared<ChannelSubscription>(*this, identifier, cls->second,
                                                 std::move(parsed.params));
  }
  // Not a C++ channel: the application's (hybrid servers keep hot channels native).
  if (rpc_ && rpc_allowed)
    return std::make_shared<RpcSubscription>(*this, identifier, parsed.channel);
  return nullptr;
}

std::shared_ptr<Subscription>* Session::find(std::string_view identifier) {
  for (auto& s : subscriptions_) {
    if (s->identifier() == identifier) return &s;
  }
  return nullptr;
}

void Session::subscribe(std::string identifier, std::optional<protocol::HistoryRequest> history,
                        std::optional<protocol::PresenceRequest> presence) {
  if (find(identifier)) {
    // The official client re-sends subscribe every 500 ms until it hears back: ignore, as Rails.
    CC_LOG_DEBUG("Already subscribed to {}: ignoring the duplicate subscribe",
                 log::clip(identifier));
    return;
  }
  // Every subscription keeps its identifier and the params parsed from it (up to ~8x the text
  // for arrays of small numbers): a budget per connection bounds that memory, and the work of
  // comparing identifiers, whatever --max-message-size allows for one command.
  std::size_t identifier_bytes = identifier.size();
  for (const auto& s : subscriptions_) identifier_bytes += s->identifier().size();
  if (identifier_bytes > env_.limits.max_identifier_bytes) {
    if (bad_input_log_.allow()) {
      CC_LOG_WARN(
          "rejecting an identifier of {} bytes: the connection's identifiers would total {} "
          "bytes (limit {}): {}",
          identifier.size(), identifier_bytes, env_.limits.max_identifier_bytes,
          log::clip(identifier));
    }
    env_.metrics.subscriptions_rejected.add(metrics::SubscriptionRejection::limit);
    send_text(protocol::encode_reject(identifier));
    return;
  }
  auto parsed = protocol::parse_identifier(identifier);
  if (!parsed) {
    if (bad_input_log_.allow()) {
      CC_LOG_ERROR("Could not subscribe: bad identifier {} [{}]", log::clip(identifier),
                   parsed.error().message());
    }
    return;
  }
  if (subscriptions_.size() >= env_.limits.max_subscriptions) {
    if (bad_input_log_.allow()) {
      CC_LOG_WARN(
          "rejecting {}: the connection already has {} subscriptions "
          "(--max-subscriptions)",
          log::clip(identifier), subscriptions_.size());
    }
    env_.metrics.subscriptions_rejected.add(metrics::SubscriptionRejection::limit);
    send_text(protocol::encode_reject(identifier));
    return;
  }
  std::shared_ptr<Subscription> subscription =
      make_subscription(identifier, std::move(*parsed), /*rpc_allowed=*/true);
  if (!subscription) {
    // Rails answers nothing here, and its client then retries every 500 ms forever; a
    // rejection tells the client the truth once (documented improvement).
    if (bad_input_log_.allow()) {
      CC_LOG_ERROR("Subscription class not found: \"{}\" (rejecting {})",
                   log::clip(parsed->channel), log::clip(identifier));
    }
    env_.metrics.subscriptions_rejected.add(metrics::SubscriptionRejection::unknown_channel);
    send_text(protocol::encode_reject(identifier));
    return;
  }
  if (history || presence) {
    auto& ext = subscription->extensions();
    // Live messages wait for the history, which is sent once the subscription is confirmed.
    if (history) ext.positions.hold();
    ext.after_confirm = std::make_unique<Subscription::Extensions::AfterConfirm>(
        Subscription::Extensions::AfterConfirm{std::move(history), std::move(presence)});
  }
  subscriptions_.push_back(subscription);
  env_.metrics.subscriptions.add(1);
  hold_commands();        // until it settles (on_subscription_settled)
  subscription->start();  // may settle synchronously (memory adapter) or later
}

void Session::on_subscription_settled(Subscription& subscription) {
  if (subscription.phase() == Subscription::Phase::stopped) {
    // Rejected: forget it, so the same identifier can be subscribed afresh (as Rails).
    auto it = std::find_if(subscriptions_.begin(), subscriptions_.end(),
                           [&](const auto& s) { return s.get() == &subscription; });
    // Every caller of this holds its own reference, so erasing here cannot destroy the
    // subscription under its own feet.
    if (it != subscriptions_.end()) {
      subscriptions_.erase(it);
      env_.metrics.subscriptions.add(-1);
    }
  } else {
    after_subscribe(subscription.shared_from_this());  // before later commands run
    save_state();
  }
  resume_commands();
}

void Session::resume_commands() {
  CABLE_ASSERT(held_ > 0);
  if (--held_ == 0) drain_backlog();
}

void Session::drain_backlog() {
  if (draining_) return;  // a command being drained settled synchronously: the loop goes on
  draining_ = true;
  while (!closed_ && held_ == 0 && backlog_ && backlog_->head < backlog_->commands.size()) {
    std::string frame = std::move(backlog_->commands[backlog_->head++]);
    backlog_->bytes -= backlog_cost(frame.size());
    process(frame);
  }
  if (backlog_ && backlog_->head == backlog_->commands.size()) {
    backlog_.reset();  // idle sessions keep no backlog memory
  }
  draining_ = false;
}

void Session::unsubscribe(const std::string& identifier) {
  CC_LOG_DEBUG("Unsubscribing from channel: {}", log::clip(identifier));
  auto* found = find(identifier);
  if (!found) {
    if (bad_input_log_.allow()) {
      CC_LOG_ERROR("Unable to find subscription with identifier: {} (not subscribed)",
                   log::clip(identifier));
    }
    return;
  }
  auto subscription = std::move(*found);
  subscriptions_.erase(subscriptions_.begin() + (found - subscriptions_.data()));
  env_.metrics.subscriptions.add(-1);
  leave_presence(*subscription, /*at_once=*/true);
  // No acknowledgement frame: Action Cable has none.
  subscription->stop(Subscription::StopCause::unsubscribe);
  save_state();
}

void Session::perform(const std::string& identifier, std::string_view data) {
  auto* found = find(identifier);
  if (!found || (*found)->phase() != Subscription::Phase::confirmed) {
    if (bad_input_log_.allow()) {
      CC_LOG_ERROR("Unable to find subscription with identifier: {} (not subscribed)",
                   log::clip(identifier));
    }
    return;
  }
  auto keep_alive = *found;  // the action may unsubscribe nothing, but may reject or stream
  keep_alive->perform(data);
}

void Session::transmit_json(std::string_view json) {
  if (!closed_) send_text(json);
}

void Session::rpc_command(std::string command, const std::string& identifier, std::string data,
                          const rpc::StringMap& istate, CommandThen then) {
  CABLE_ASSERT(rpc_ != nullptr);
  hold_commands();
  rpc_->used = true;
  rpc::CommandMessage message{std::move(command), identifier, std::string(identifiers_json()),
                              std::move(data), rpc_->env(&istate)};
  rpc_->backend.command(std::move(message), rpc::CallMeta{sid_.str()}, env_.io.get_executor(),
                        [weak = weak_self(), then = std::move(then)](
                            boost::system::result<rpc::CommandResponse> reply) {
                          auto self = weak.lock();
                          if (!self) return;  // the connection is gone
                          Session& session = **self;
                          log::ConnectionScope scope(session.log_id());
                          if (!session.closed_) then(std::move(reply));
                          session.resume_commands();
                        });
}

void Session::forward_transmissions(const std::vector<std::string>& transmissions) {
  if (closed_) return;
  for (const auto& frame : transmissions) send_text(frame);
}

void Session::merge_connection_state(const rpc::StringMap& changes) {
  if (rpc_) merge_state(rpc_->cstate, changes);
}

void Session::disconnect_after_reply() {
  if (closed_) return;
  // The application ended the connection (a logout, a ban): it must not come back through its
  // sid without the application's connect.
  resumable_ = false;
  CC_LOG_INFO("The application closed connection {}", sid_.view());
  transport_.close(ws::close_code::normal, {});
}

void Session::log_rpc_failure(std::string_view call, std::string_view identifier,
                              std::string_view reason) {
  if (!env_.rpc.failures.allow()) return;
  if (identifier.empty()) {
    CC_LOG_ERROR("RPC {} failed (sid {}): {}", call, sid_.view(), log::clip(reason));
  } else {
    CC_LOG_ERROR("RPC {} failed for {} (sid {}): {}", call, log::clip(identifier), sid_.view(),
                 log::clip(reason));
  }
}

void Session::on_closed() {
  if (closed_) return;
  closed_ = true;
  unlink();  // no more heartbeats
  leave_internal_channel();
  if (resumable_) {
    save_state(/*closing=*/true);
  } else {
    forget_state();
  }
  for (auto& s : subscriptions_) leave_presence(*s, /*at_once=*/false);
  tell_application_of_close();
  // Like Rails' unsubscribe_from_all: every channel hears unsubscribed().
  auto subscriptions = std::move(subscriptions_);
  subscriptions_.clear();
  env_.metrics.subscriptions.add(-static_cast<std::int64_t>(subscriptions.size()));
  for (auto& s : subscriptions) s->stop(Subscription::StopCause::connection_closed);
  backlog_.reset();
}

// One disconnect call with every RPC subscription and its state, as AnyCable makes it; a
// connection that never called the application (C++ channels, JWT) makes none. Nothing waits
// for the reply: the connection is already gone.
void Session::tell_application_of_close() {
  if (!rpc_ || !rpc_->used) return;
  rpc::DisconnectRequest request{std::string(identifiers_json()), {}, rpc_->env()};
  for (const auto& s : subscriptions_) {
    if (!s->served_by_rpc()) continue;
    request.subscriptions.push_back(s->identifier_string());
    request.env.istate.emplace(s->identifier_string(),
                               static_cast<const RpcSubscription&>(*s).istate_json());
  }
  rpc_->backend.disconnect(
      std::move(request), rpc::CallMeta{sid_.str()}, env_.io.get_executor(),
      [budget = &env_.rpc.failures](boost::system::result<rpc::DisconnectResponse> reply) {
        // The loop (and its budget) outlives every call made on it.
        if (!reply && budget->allow()) {
          CC_LOG_WARN("RPC disconnect failed: {}", reply.error().message());
        }
      });
}

}  // namespace cablecast::session
