#include "session/subscription.hpp"

#include <algorithm>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "protocol/encode.hpp"
#include "session/session.hpp"

namespace cablecast::session {

Subscription::Subscription(Session& session, std::string identifier)
    : session_(session), identifier_(session.env().identifiers.intern(identifier)) {
  wants_positions_ = session.extended();
}

// Sources call stop() from their own destructors: on_stop must not run after they are gone.
Subscription::~Subscription() { CABLE_ASSERT(phase_ == Phase::stopped || streams_.empty()); }

void Subscription::release() {
  if (--pending_ > 0 || phase_ != Phase::subscribing) return;
  auto self = shared_from_this();  // settling may drop the session's reference
  if (rejected_) {
    CC_LOG_INFO("{} rejected the subscription {}", source_name(), log::clip(identifier_.view()));
    stop(StopCause::rejected);
    session_.env().metrics.subscriptions_rejected.add(metrics::SubscriptionRejection::rejected);
    send_rejection();
  } else {
    phase_ = Phase::confirmed;
    if (!ext_ || !ext_->restored) send_confirmation();
    if (auto early = std::move(early_)) {
      for (auto& frame : *early) session_.send(frame);
    }
  }
  session_.on_subscription_settled(*this);
}

void Subscription::send_confirmation() {
  session_.transmit_json(protocol::encode_confirm(identifier_.view()));
}

void Subscription::send_rejection() {
  session_.transmit_json(protocol::encode_reject(identifier_.view()));
}

void Subscription::stop(StopCause cause) {
  if (phase_ == Phase::stopped) return;
  phase_ = Phase::stopped;
  on_stop(cause);
  remove_all_streams();
  early_.reset();
}

void Subscription::add_stream(std::string_view stream_name) {
  if (phase_ == Phase::stopped) return;  // as Rails 8: streaming after unsubscribe is a no-op
  if (std::find(streams_.begin(), streams_.end(), stream_name) != streams_.end()) return;
  streams_.emplace_back(stream_name);
  const std::string& stream = streams_.back();
  if (phase_ == Phase::subscribing) hold();
  std::weak_ptr<Subscription> weak = weak_from_this();
  session_.env().hub.subscribe(stream, this, [weak, stream](boost::system::error_code ec) {
    if (auto self = weak.lock()) self->on_stream_ready(ec, stream);
  });
  CC_LOG_DEBUG("{} is streaming from {}", source_name(), log::clip(stream));
}

void Subscription::on_stream_ready(boost::system::error_code ec, const std::string& stream) {
  if (ec) on_stream_failed(stream, ec);
  if (phase_ == Phase::subscribing) release();
}

void Subscription::on_stream_failed(const std::string& stream, boost::system::error_code ec) {
  CC_LOG_ERROR("{} could not stream from {}: {}", source_name(), log::clip(stream), ec.message());
  if (phase_ == Phase::subscribing) rejected_ = true;  // never confirm what cannot deliver
}

void Subscription::remove_stream(std::string_view stream) {
  auto it = std::find(streams_.begin(), streams_.end(), stream);
  if (it == streams_.end()) return;
  session_.env().hub.unsubscribe(*it, this);
  streams_.erase(it);
}

void Subscription::remove_all_streams() {
  for (auto& stream : streams_) session_.env().hub.unsubscribe(stream, this);
  streams_.clear();
}

Subscription::Extensions& Subscription::extensions() {
  if (!ext_) ext_ = std::make_unique<Extensions>();
  return *ext_;
}

void Subscription::deliver_positioned(const SharedFrame& frame, std::string_view stream,
                                      const broadcast::Meta& position) {
  if (phase_ == Phase::stopped) return;
  auto& positions = extensions().positions;
  if (!positions.admit_live(stream, position.epoch, position.offset, frame)) {
    if (positions.overflowing()) {
      CC_LOG_WARN("{}: {} live messages held while its history is pending: sending them now",
                  log::clip(identifier_.view()), StreamPositions::kMaxHeld);
      release_held();
    }
    return;
  }
  deliver(frame);
}

void Subscription::release_held() {
  if (!ext_) return;
  for (auto& frame : ext_->positions.release()) deliver(frame);
}

std::string_view Subscription::socket_id() const { return session_.sid().view(); }

void Subscription::deliver(const SharedFrame& frame) {
  switch (phase_) {
    case Phase::subscribing:
      if (!early_) early_ = std::make_unique<std::vector<SharedFrame>>();
      early_->push_back(frame);  // sent right after the confirmation
      return;
    case Phase::confirmed:
      session_.send(frame);
      return;
    case Phase::stopped:
      return;
  }
}

}  // namespace cablecast::session
