#include "session/subscription.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>
#include <exception>

#include "core/log.hpp"
#include "protocol/encode.hpp"
#include "session/session.hpp"
#include "ws/frame_encoder.hpp"

namespace cablecast::session {

namespace asio = boost::asio;

Subscription::Subscription(Session& session, std::string identifier,
                           const detail::ChannelClass& cls, boost::json::object params)
    : session_(session),
      identifier_(std::move(identifier)),
      class_(cls),
      params_(std::move(params)) {}

Subscription::~Subscription() { stop(); }

template <class F>
bool Subscription::guarded(const char* what, F&& f) {
  try {
    f();
    return true;
  } catch (const std::exception& e) {
    CC_LOG_ERROR("{}#{} raised: {}", class_.name, what, e.what());
  } catch (...) {
    CC_LOG_ERROR("{}#{} raised a non-standard exception", class_.name, what);
  }
  return false;
}

void Subscription::start() {
  auto self = shared_from_this();  // settling may drop the session's reference
  channel_ = class_.make();
  detail::ChannelAccess::attach(*channel_, this);
  hold();  // subscribed() itself is one pending thing: nothing settles before it returns
  if (!guarded("subscribed", [&] { detail::ChannelAccess::subscribed(*channel_); })) {
    rejected_ = true;  // an exception in subscribed() refuses the subscription, loudly
  }
  release();
}

void Subscription::release() {
  if (--pending_ > 0 || phase_ != Phase::subscribing) return;
  if (rejected_) {
    CC_LOG_INFO("{} rejected the subscription {}", class_.name, log::clip(identifier_));
    stop();
    session_.transmit_json(protocol::encode_reject(identifier_));
  } else {
    phase_ = Phase::confirmed;
    session_.transmit_json(protocol::encode_confirm(identifier_));
    for (auto& frame : early_) session_.send(frame);
    std::vector<SharedFrame>().swap(early_);
  }
  session_.on_subscription_settled(*this);
}

void Subscription::perform(const boost::json::object& data) {
  if (rejected_) {
    if (session_.log_bad_input()) {
      CC_LOG_ERROR("Unable to process {} action: the subscription was rejected", class_.name);
    }
    return;
  }
  // Rails: a missing or blank "action" means "receive".
  std::string action = "receive";
  if (auto it = data.find("action");
      it != data.end() && it->value().is_string() && !it->value().get_string().empty()) {
    action = std::string(it->value().get_string());
  }
  auto found = class_.actions.find(action);
  if (found == class_.actions.end()) {
    if (session_.log_bad_input()) {
      CC_LOG_ERROR("Unable to process {}#{}({}) (unknown action)", class_.name, log::clip(action),
                   log::clip(boost::json::serialize(data)));
    }
    return;
  }
  auto self = shared_from_this();
  guarded(action.c_str(), [&] { found->second(*channel_, data); });
}

void Subscription::stop() {
  if (phase_ == Phase::stopped) return;
  phase_ = Phase::stopped;
  if (channel_) guarded("unsubscribed", [&] { detail::ChannelAccess::unsubscribed(*channel_); });
  for (auto& stream : streams_) session_.env().hub.unsubscribe(stream, this);
  streams_.clear();
  for (auto& timer : timers_) timer->timer.cancel();
  timers_.clear();
  early_.clear();
}

const boost::json::object& Subscription::connection_identifiers() const {
  return session_.identifiers();
}

void Subscription::reject() { rejected_ = true; }

void Subscription::stream_from(std::string_view broadcasting) {
  if (phase_ == Phase::stopped) return;  // as Rails 8: streaming after unsubscribe is a no-op
  if (std::find(streams_.begin(), streams_.end(), broadcasting) != streams_.end()) return;
  streams_.emplace_back(broadcasting);
  const std::string& stream = streams_.back();
  if (phase_ == Phase::subscribing) hold();
  std::weak_ptr<Subscription> weak = weak_from_this();
  session_.env().hub.subscribe(stream, this, [weak, stream](boost::system::error_code ec) {
    if (auto self = weak.lock()) self->on_stream_ready(ec, stream);
  });
  CC_LOG_DEBUG("{} is streaming from {}", class_.name, log::clip(stream));
}

void Subscription::on_stream_ready(boost::system::error_code ec, const std::string& stream) {
  if (ec) {
    CC_LOG_ERROR("{} could not stream from {}: {}", class_.name, log::clip(stream), ec.message());
    if (phase_ == Phase::subscribing) rejected_ = true;  // never confirm what cannot deliver
  }
  if (phase_ == Phase::subscribing) release();
}

void Subscription::stop_stream_from(std::string_view broadcasting) {
  auto it = std::find(streams_.begin(), streams_.end(), broadcasting);
  if (it == streams_.end()) return;
  session_.env().hub.unsubscribe(*it, this);
  streams_.erase(it);
}

void Subscription::stop_all_streams() {
  for (auto& stream : streams_) session_.env().hub.unsubscribe(stream, this);
  streams_.clear();
}

void Subscription::deliver(const SharedFrame& frame) {
  switch (phase_) {
    case Phase::subscribing:
      early_.push_back(frame);  // sent right after confirm_subscription
      return;
    case Phase::confirmed:
      session_.send(frame);
      return;
    case Phase::stopped:
      return;
  }
}

void Subscription::transmit(std::string message_json) {
  if (phase_ == Phase::stopped) return;
  session_.transmit_json(protocol::encode_message(identifier_, message_json));
}

bool Subscription::broadcast(std::string_view broadcasting, std::string payload_json) {
  auto result = session_.env().adapter.publish(broadcasting, payload_json);
  if (!result) {
    CC_LOG_ERROR("broadcast to {} failed: {}", log::clip(broadcasting), result.error().message());
    return false;
  }
  return true;
}

void Subscription::periodically(std::chrono::milliseconds interval, std::function<void()> tick) {
  if (phase_ == Phase::stopped) return;
  if (interval.count() <= 0) {
    CC_LOG_ERROR("{}: periodically() needs a positive interval", class_.name);
    return;
  }
  timers_.push_back(
      std::make_unique<Timer>(Timer{asio::steady_timer(session_.env().io), std::move(tick)}));
  arm(timers_.size() - 1, interval);
}

void Subscription::arm(std::size_t index, std::chrono::milliseconds interval) {
  Timer& timer = *timers_[index];
  timer.timer.expires_after(interval);
  std::weak_ptr<Subscription> weak = weak_from_this();
  timer.timer.async_wait([weak, index, interval](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->phase_ == Phase::stopped || index >= self->timers_.size()) return;
    self->guarded("periodic timer", [&] { self->timers_[index]->tick(); });
    if (self->phase_ != Phase::stopped && index < self->timers_.size()) self->arm(index, interval);
  });
}

void Subscription::run_blocking(std::function<std::function<void()>()> job) {
  if (phase_ == Phase::stopped) return;
  const bool during_subscribe = phase_ == Phase::subscribing;
  if (during_subscribe) hold();
  std::weak_ptr<Subscription> weak = weak_from_this();
  auto& io = session_.env().io;
  std::string channel_name = class_.name;
  asio::post(session_.env().blocking, [job = std::move(job), weak, &io, during_subscribe,
                                       channel_name = std::move(channel_name)] {
    std::function<void()> then;
    try {
      then = job();
    } catch (const std::exception& e) {
      CC_LOG_ERROR("{}: blocking work raised: {}", channel_name, e.what());
    } catch (...) {
      CC_LOG_ERROR("{}: blocking work raised a non-standard exception", channel_name);
    }
    asio::post(io, [weak, then = std::move(then), during_subscribe] {
      auto self = weak.lock();
      if (!self) return;  // the subscription ended meanwhile: drop the result
      if (!then) {
        if (during_subscribe && self->phase_ == Phase::subscribing) self->rejected_ = true;
      } else if (self->phase_ != Phase::stopped) {
        self->guarded("run_blocking continuation", [&] { then(); });
      }
      if (during_subscribe && self->phase_ == Phase::subscribing) self->release();
    });
  });
}

}  // namespace cablecast::session
