#include "session/channel_subscription.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>
#include <exception>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "protocol/command.hpp"
#include "protocol/encode.hpp"
#include "session/session.hpp"

namespace cablecast::session {

namespace asio = boost::asio;

ChannelSubscription::ChannelSubscription(Session& session, std::string identifier,
                                         const detail::ChannelClass& cls,
                                         boost::json::object params)
    : Subscription(session, std::move(identifier)),
      class_(cls),
      decoded_(std::make_unique<Decoded>(Decoded{std::move(params), std::nullopt})) {}

ChannelSubscription::~ChannelSubscription() { stop(StopCause::connection_closed); }

ChannelSubscription::Decoded& ChannelSubscription::decoded() const {
  if (!decoded_) decoded_ = std::make_unique<Decoded>();
  return *decoded_;
}

const boost::json::object& ChannelSubscription::params() const {
  auto& params = decoded().params;
  if (!params) {
    auto parsed = protocol::parse_identifier(identifier_string());
    // It parsed when the client subscribed, and the text has not changed since.
    CABLE_ASSERT(parsed.has_value());
    params.emplace(parsed ? std::move(parsed->params) : boost::json::object());
  }
  return *params;
}

namespace {
// Channel callbacks running on this thread: a callback may start another (an action that ends
// its subscription runs unsubscribed()), and the outer one may still hold params().
thread_local int callbacks_running = 0;
}  // namespace

template <class F>
bool ChannelSubscription::guarded(const char* what, F&& f) {
  ++callbacks_running;
  bool ok = false;
  try {
    f();
    ok = true;
  } catch (const std::exception& e) {
    CC_LOG_ERROR("{}#{} raised: {}", class_.name, what, e.what());
  } catch (...) {
    CC_LOG_ERROR("{}#{} raised a non-standard exception", class_.name, what);
  }
  // Channel code is done with params() and connection_identifiers().
  if (--callbacks_running == 0) decoded_.reset();
  return ok;
}

void ChannelSubscription::start() {
  auto self = shared_from_this();  // settling may drop the session's reference
  channel_ = class_.make();
  detail::ChannelAccess::attach(*channel_, this);
  hold();  // subscribed() itself is one pending thing: nothing settles before it returns
  if (!guarded("subscribed", [&] { detail::ChannelAccess::subscribed(*channel_); })) {
    mark_rejected();  // an exception in subscribed() refuses the subscription, loudly
  }
  release();
}

void ChannelSubscription::perform(std::string_view data) {
  if (is_rejected()) {
    if (session().log_bad_input()) {
      CC_LOG_ERROR("Unable to process {} action: the subscription was rejected", class_.name);
    }
    return;
  }
  auto parsed = protocol::parse_action_data(data);
  if (!parsed) {
    if (session().log_bad_input()) {
      CC_LOG_ERROR("Could not execute command for {}: data {} [{}]", log::clip(identifier_string()),
                   log::clip(data), parsed.error().message());
    }
    return;
  }
  // Rails: a missing or blank "action" means "receive".
  std::string action = "receive";
  if (auto it = parsed->find("action");
      it != parsed->end() && it->value().is_string() && !it->value().get_string().empty()) {
    action = std::string(it->value().get_string());
  }
  auto found = class_.actions.find(action);
  if (found == class_.actions.end()) {
    if (session().log_bad_input()) {
      CC_LOG_ERROR("Unable to process {}#{}({}) (unknown action)", class_.name, log::clip(action),
                   log::clip(boost::json::serialize(*parsed)));
    }
    return;
  }
  auto self = shared_from_this();  // the action may unsubscribe nothing, but may reject or stream
  guarded(action.c_str(), [&] { found->second(*channel_, *parsed); });
}

void ChannelSubscription::on_stop(StopCause) {
  if (channel_) guarded("unsubscribed", [&] { detail::ChannelAccess::unsubscribed(*channel_); });
  for (auto& timer : timers_) timer->timer.cancel();
  timers_.clear();
}

const boost::json::object& ChannelSubscription::connection_identifiers() const {
  auto& identifiers = decoded().identifiers;
  if (!identifiers) identifiers.emplace(session().identifiers());
  return *identifiers;
}

void ChannelSubscription::transmit(std::string message_json) {
  if (phase() == Phase::stopped) return;
  // Channel::transmit serialized with Boost.JSON; Rails escapes a few characters more.
  session().transmit_json(protocol::encode_message(
      identifier_string(), protocol::escape_as_rails(std::move(message_json))));
}

void ChannelSubscription::stream_from(std::string_view broadcasting, StreamOptions options) {
  add_stream(broadcasting);
  if (!options.whisper && !options.presence) return;
  auto& ext = extensions();
  if (options.whisper) ext.whisper_stream = broadcasting;
  if (options.presence) ext.presence_stream = broadcasting;
}

bool ChannelSubscription::broadcast(std::string_view broadcasting, std::string payload_json) {
  auto result =
      publish(session().env(), broadcasting, protocol::escape_as_rails(std::move(payload_json)));
  if (!result) {
    CC_LOG_ERROR("broadcast to {} failed: {}", log::clip(broadcasting), result.error().message());
    return false;
  }
  return true;
}

void ChannelSubscription::periodically(std::chrono::milliseconds interval,
                                       std::function<void()> tick) {
  if (phase() == Phase::stopped) return;
  if (interval.count() <= 0) {
    CC_LOG_ERROR("{}: periodically() needs a positive interval", class_.name);
    return;
  }
  timers_.push_back(
      std::make_unique<Timer>(Timer{asio::steady_timer(session().env().io), std::move(tick)}));
  arm(timers_.size() - 1, interval);
}

void ChannelSubscription::arm(std::size_t index, std::chrono::milliseconds interval) {
  Timer& timer = *timers_[index];
  timer.timer.expires_after(interval);
  std::weak_ptr<Subscription> weak = weak_from_this();
  timer.timer.async_wait([weak, index, interval](boost::system::error_code ec) {
    auto locked = weak.lock();
    if (ec || !locked) return;
    auto& self = static_cast<ChannelSubscription&>(*locked);
    if (self.phase() == Phase::stopped || index >= self.timers_.size()) return;
    log::ConnectionScope scope(self.session().log_id());
    self.guarded("periodic timer", [&] { self.timers_[index]->tick(); });
    if (self.phase() != Phase::stopped && index < self.timers_.size()) self.arm(index, interval);
  });
}

void ChannelSubscription::run_blocking(std::function<std::function<void()>()> job) {
  if (phase() == Phase::stopped) return;
  const bool during_subscribe = phase() == Phase::subscribing;
  if (during_subscribe) hold();
  std::weak_ptr<Subscription> weak = weak_from_this();
  auto& io = session().env().io;
  std::string channel_name = class_.name;
  asio::post(session().env().blocking, [job = std::move(job), weak, &io, during_subscribe,
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
      auto locked = weak.lock();
      if (!locked) return;  // the subscription ended meanwhile: drop the result
      auto& self = static_cast<ChannelSubscription&>(*locked);
      log::ConnectionScope scope(self.session().log_id());
      if (!then) {
        if (during_subscribe && self.phase() == Phase::subscribing) self.mark_rejected();
      } else if (self.phase() != Phase::stopped) {
        self.guarded("run_blocking continuation", [&] { then(); });
      }
      if (during_subscribe && self.phase() == Phase::subscribing) self.release();
    });
  });
}

}  // namespace cablecast::session
