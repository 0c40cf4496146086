// Resumable sessions (AnyCable's extended protocol, protocol.md 7.2): an ext session's state is
// cached under its sid while it lives and after it closes; a client that comes back with that
// sid within --sessions-ttl gets its identity and subscriptions back without authenticating
// again, and a welcome that says which subscriptions were restored.
#include <chrono>

#include "core/log.hpp"
#include "protocol/encode.hpp"
#include "session/channel_subscription.hpp"
#include "session/connection_request.hpp"
#include "session/pending_restore.hpp"
#include "session/rpc_link.hpp"
#include "session/rpc_subscription.hpp"
#include "session/session.hpp"
#include "session/session_state.hpp"
#include "ws/frame_encoder.hpp"
#include "ws/handshake.hpp"

namespace cablecast::session {

namespace {

std::uint32_t steady_seconds() {
  return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace

// AnyCable's two places: the header X-AnyCable-Restore-Sid (wins) or the query parameter "sid"
// (what @anycable/core sends).
std::optional<std::string> Session::restore_sid(const ws::UpgradeInfo& info) const {
  ConnectionRequest request = detail::ConnectionRequestFactory::make(info);
  auto sid = request.header("X-AnyCable-Restore-Sid");
  if (!sid || sid->empty()) sid = request.query("sid");
  if (!sid || sid->empty() || sid->size() > 64) return std::nullopt;
  return sid;
}

void Session::begin_restore(const ws::UpgradeInfo& info, std::string old_sid) {
  restore_ = std::make_unique<PendingRestore>(PendingRestore{
      info.request, std::string(info.remote_address), std::string(info.subprotocol)});
  connecting_ = true;
  hold_commands();  // commands sent before the welcome wait for it
  env_.broker.sessions->take(old_sid, env_.io.get_executor(),
                             [weak = weak_self()](std::optional<std::string> state) {
                               if (auto self = weak.lock()) {
                                 log::ConnectionScope scope((*self)->log_id());
                                 (*self)->on_restore_state(std::move(state));
                               }
                             });
}

void Session::on_restore_state(std::optional<std::string> state) {
  connecting_ = false;
  auto pending = std::move(restore_);
  if (closed_) return;
  auto saved = state ? decode_session_state(*state)
                     : boost::system::result<SavedSession>(
                           boost::system::error_code(ENOENT, boost::system::generic_category()));
  if (!saved) {
    // Unknown, expired or unreadable: the client is authenticated as a new one.
    identify(ws::UpgradeInfo{pending->request, pending->remote_address, pending->subprotocol});
    resume_commands();
    return;
  }
  if (rpc_) {
    rpc_->cstate = std::move(saved->cstate);
    rpc_->used = true;  // the application knows this connection: it hears of its end
  }
  welcome(saved->identifiers, rpc_ ? std::move(saved->rpc_identifiers) : std::string());
  std::vector<std::string> restored_ids;
  std::vector<std::pair<std::shared_ptr<Subscription>, SavedSubscription*>> to_start;
  for (auto& sub : saved->subscriptions) {
    auto parsed = protocol::parse_identifier(sub.identifier);
    if (!parsed) continue;
    auto subscription = make_subscription(sub.identifier, std::move(*parsed), sub.rpc);
    // Its source is gone (e.g. a channel no longer registered): the client re-subscribes.
    if (!subscription) continue;
    auto& ext = subscription->extensions();
    ext.restored = true;
    ext.awaiting_history = true;  // until the client asks for what it missed
    ext.positions.hold();
    restored_ids.push_back(sub.identifier);
    to_start.emplace_back(std::move(subscription), &sub);
  }
  CC_LOG_DEBUG("connection {} restored with {} subscription(s)", sid_.view(), restored_ids.size());
  send_text(protocol::encode_restored_welcome(sid_.view(), restored_ids));
  restored_at_ = steady_seconds();
  if (restored_at_ == 0) restored_at_ = 1;
  for (auto& [subscription, sub] : to_start) {
    subscriptions_.push_back(subscription);
    env_.metrics.subscriptions.add(1);
    hold_commands();  // until it settles
    if (sub->rpc && subscription->served_by_rpc()) {
      static_cast<RpcSubscription&>(*subscription).restore(std::move(sub->istate), sub->streams);
    } else {
      subscription->start();
    }
    take_over_presence(*subscription, *sub, saved->sid);
  }
  resume_commands();
}

// The old session's membership becomes this one's: joined under the new sid first, so the id
// never has zero sessions (no leave, no join event), then the old sid leaves at once instead of
// lingering for --presence-ttl (a later explicit leave is then announced at once).
void Session::take_over_presence(Subscription& subscription, SavedSubscription& saved,
                                 const std::string& old_sid) {
  if (saved.presence_id.empty() || !env_.broker.presence) return;
  if (subscription.phase() == Subscription::Phase::stopped) return;
  auto& ext = subscription.extensions();
  ext.presence_stream = saved.presence_stream;
  ext.presence_id = saved.presence_id;
  ext.presence_info = saved.presence_info;
  env_.broker.presence->join(saved.presence_stream, sid_.str(),
                             broker::PresenceMember{saved.presence_id, saved.presence_info});
  if (!old_sid.empty()) env_.broker.presence->leave(saved.presence_stream, old_sid);
}

void Session::save_state(bool closing) {
  if (!extended_ || !welcomed_ || !env_.broker.sessions) return;
  // While it lives, a session's state is worth keeping only where it outlives this process (a
  // client whose node died restores elsewhere); an in-process cache gets it once, at the close,
  // so a live connection costs it nothing.
  if (!closing && !env_.broker.sessions->outlives_process()) return;
  SavedSession saved;
  saved.sid = sid_.str();
  saved.identifiers = identifiers();
  if (rpc_) {
    saved.rpc_identifiers = identifiers_json();
    saved.cstate = rpc_->cstate;
  }
  for (const auto& s : subscriptions_) {
    if (s->phase() != Subscription::Phase::confirmed) continue;
    SavedSubscription sub;
    sub.identifier = s->identifier_string();
    if (s->served_by_rpc()) {
      sub.rpc = true;
      sub.istate = static_cast<const RpcSubscription&>(*s).istate();
      sub.streams = s->streams();
    }
    if (const auto* ext = s->find_extensions(); ext && !ext->presence_id.empty()) {
      sub.presence_stream = ext->presence_stream;
      sub.presence_id = ext->presence_id;
      sub.presence_info = ext->presence_info;
    }
    saved.subscriptions.push_back(std::move(sub));
  }
  env_.broker.sessions->save(sid_.str(), encode_session_state(saved), env_.broker.sessions_ttl);
  // Tests wait for this line before a client comes back: the save at the close runs after the
  // connection's own "connection aborted" / "connection closed" lines.
  if (closing) {
    CC_LOG_DEBUG("session {} saved for a restore within {} s", sid_.view(),
                 env_.broker.sessions_ttl.count());
  }
}

// The state is saved after every confirmed subscription, while the connection lives. A session
// the server ends with a disconnect frame (a remote disconnect: the application logged the user
// out or banned them; a shutdown) must not come back through its sid without authenticating
// again: taking the state is how it goes (the store's one removal; the state is thrown away).
void Session::forget_state() {
  if (!extended_ || !welcomed_ || !env_.broker.sessions) return;
  if (!env_.broker.sessions->outlives_process()) return;  // nothing was saved yet
  env_.broker.sessions->take(sid_.str(), env_.io.get_executor(), [](std::optional<std::string>) {});
}

}  // namespace cablecast::session
