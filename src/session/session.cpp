#include "session/session.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <exception>

#include "core/log.hpp"
#include "protocol/command.hpp"
#include "protocol/encode.hpp"
#include "session/subscription.hpp"
#include "ws/frame.hpp"
#include "ws/frame_encoder.hpp"

namespace cablecast::session {

using protocol::CommandType;

Session::Session(Environment& env, ws::Transport& transport) : env_(env), transport_(transport) {
  env_.open_sessions.fetch_add(1, std::memory_order_relaxed);
}

Session::~Session() {
  if (is_linked()) env_.sessions.erase(env_.sessions.iterator_to(*this));
  env_.open_sessions.fetch_sub(1, std::memory_order_relaxed);
}

void Session::on_open(const ws::UpgradeInfo& info) {
  ConnectionRequest request(&info.request, info.remote_address);
  ConnectResult result = ConnectResult::reject();
  if (env_.connect) {
    try {
      result = env_.connect(request);
    } catch (const std::exception& e) {
      CC_LOG_ERROR("The connect hook failed ({}): rejecting the connection", e.what());
    }
  } else {
    result = ConnectResult::accept();
  }
  if (!result.accepted()) {
    CC_LOG_INFO("An unauthorized connection attempt was rejected (from {})", info.remote_address);
    disconnect("unauthorized", false);
    return;
  }
  identifiers_ = std::move(result.identifiers());
  welcomed_ = true;
  env_.sessions.push_back(*this);
  transport_.send(ws::make_text_frame(protocol::encode_welcome()));
  CC_LOG_DEBUG("connection open from {} identified as {}", info.remote_address,
               boost::json::serialize(identifiers_));
}

void Session::disconnect(std::string_view reason, bool reconnect) {
  if (closed_) return;
  transport_.send(ws::make_text_frame(protocol::encode_disconnect(reason, reconnect)));
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
  if (closed_ || !welcomed_) return;
  if (over_rate_limit()) {
    CC_LOG_WARN(
        "closing a connection that sent more than {} commands in one second "
        "(--max-commands-per-second)",
        env_.limits.max_commands_per_second);
    // The connection stops delivering messages once its close frame is queued.
    transport_.close(ws::close_code::policy_violation, "too many commands");
    return;
  }
  if (waiting_on_ || backlog_head_ < backlog_.size()) {
    // Each entry is charged what it holds, not only its text: empty messages are not free.
    const std::size_t cost = backlog_cost(message.size());
    if (backlog_bytes_ + cost > env_.limits.max_backlog_bytes) {
      CC_LOG_WARN(
          "closing a connection that sent {} bytes of commands while a subscription was "
          "pending (limit {})",
          backlog_bytes_ + cost, env_.limits.max_backlog_bytes);
      transport_.close(ws::close_code::policy_violation, "too many pending commands");
      return;
    }
    backlog_bytes_ += cost;
    backlog_.emplace_back(message);
    return;
  }
  process(message);
}

void Session::process(std::string_view frame) {
  auto command = protocol::decode_command(frame);
  if (!command) {
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
  switch (command->type) {
    case CommandType::subscribe:
      return subscribe(std::move(command->identifier));
    case CommandType::unsubscribe:
      return unsubscribe(command->identifier);
    case CommandType::message:
      return perform(command->identifier, command->data);
  }
}

std::shared_ptr<Subscription>* Session::find(std::string_view identifier) {
  for (auto& s : subscriptions_) {
    if (s->identifier() == identifier) return &s;
  }
  return nullptr;
}

void Session::subscribe(std::string identifier) {
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
    transport_.send(ws::make_text_frame(protocol::encode_reject(identifier)));
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
    transport_.send(ws::make_text_frame(protocol::encode_reject(identifier)));
    return;
  }
  auto cls = env_.channels.find(parsed->channel);
  if (cls == env_.channels.end()) {
    // Rails answers nothing here, and its client then retries every 500 ms forever; a
    // rejection tells the client the truth once (documented improvement).
    if (bad_input_log_.allow()) {
      CC_LOG_ERROR("Subscription class not found: \"{}\" (rejecting {})",
                   log::clip(parsed->channel), log::clip(identifier));
    }
    transport_.send(ws::make_text_frame(protocol::encode_reject(identifier)));
    return;
  }
  auto subscription = std::make_shared<Subscription>(*this, std::move(identifier), cls->second,
                                                     std::move(parsed->params));
  subscriptions_.push_back(subscription);
  waiting_on_ = subscription.get();
  subscription->start();  // may settle synchronously (memory adapter) or later
}

void Session::on_subscription_settled(Subscription& subscription) {
  if (subscription.phase() == Subscription::Phase::stopped) {
    // Rejected: forget it, so the same identifier can be subscribed afresh (as Rails).
    auto it = std::find_if(subscriptions_.begin(), subscriptions_.end(),
                           [&](const auto& s) { return s.get() == &subscription; });
    // Every caller of this holds its own reference, so erasing here cannot destroy the
    // subscription under its own feet.
    if (it != subscriptions_.end()) subscriptions_.erase(it);
  }
  if (waiting_on_ == &subscription) {
    waiting_on_ = nullptr;
    drain_backlog();
  }
}

void Session::drain_backlog() {
  if (draining_) return;  // a command being drained settled synchronously: the loop goes on
  draining_ = true;
  while (!closed_ && !waiting_on_ && backlog_head_ < backlog_.size()) {
    std::string frame = std::move(backlog_[backlog_head_++]);
    backlog_bytes_ -= backlog_cost(frame.size());
    process(frame);
  }
  if (backlog_head_ == backlog_.size()) {
    std::vector<std::string>().swap(backlog_);  // idle sessions keep no backlog memory
    backlog_head_ = 0;
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
  subscription->stop();  // no acknowledgement frame: Action Cable has none
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
  auto parsed = protocol::parse_action_data(data);
  if (!parsed) {
    if (bad_input_log_.allow()) {
      CC_LOG_ERROR("Could not execute command for {}: data {} [{}]", log::clip(identifier),
                   log::clip(data), parsed.error().message());
    }
    return;
  }
  auto keep_alive = *found;  // the action may unsubscribe nothing, but may reject or stream
  keep_alive->perform(*parsed);
}

void Session::transmit_json(std::string_view json) {
  if (!closed_) transport_.send(ws::make_text_frame(json));
}

void Session::on_closed() {
  if (closed_) return;
  closed_ = true;
  if (is_linked()) env_.sessions.erase(env_.sessions.iterator_to(*this));
  // Like Rails' unsubscribe_from_all: every channel hears unsubscribed().
  auto subscriptions = std::move(subscriptions_);
  subscriptions_.clear();
  for (auto& s : subscriptions) s->stop();
  waiting_on_ = nullptr;
  backlog_.clear();
}

}  // namespace cablecast::session
