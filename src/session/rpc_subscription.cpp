#include "session/rpc_subscription.hpp"

#include <boost/json/serialize.hpp>

#include "core/log.hpp"
#include "session/rpc_link.hpp"
#include "session/session.hpp"

namespace cablecast::session {

RpcSubscription::RpcSubscription(Session& session, std::string identifier, std::string channel_name)
    : Subscription(session, std::move(identifier)), channel_(std::move(channel_name)) {}

RpcSubscription::~RpcSubscription() { stop(StopCause::connection_closed); }

void RpcSubscription::start() {
  hold();  // the reply is the pending thing: nothing settles before it is applied
  std::weak_ptr<Subscription> weak = weak_from_this();
  session().rpc_command("subscribe", identifier_string(), {}, istate_,
                        [weak](boost::system::result<rpc::CommandResponse> reply) {
                          if (auto self = weak.lock()) {
                            static_cast<RpcSubscription&>(*self).on_subscribed(std::move(reply));
                          }
                        });
}

void RpcSubscription::on_subscribed(boost::system::result<rpc::CommandResponse> reply) {
  if (phase() != Phase::subscribing) return;
  if (!reply) {
    // As AnyCable: logged, nothing sent. The official client retries its subscribe.
    session().log_rpc_failure("subscribe", identifier_string(), reply.error().message());
    mark_rejected();
  } else if (reply->status != rpc::Status::success) {
    if (reply->status == rpc::Status::error) {
      session().log_rpc_failure("subscribe", identifier_string(), reply->error_msg);
    } else {
      CC_LOG_DEBUG("{} refused the subscription {}", channel_, log::clip(identifier_string()));
    }
    held_transmissions_ = std::move(reply->transmissions);
    mark_rejected();
  } else {
    apply_streams_and_state(*reply);
    held_transmissions_ = std::move(reply->transmissions);
    if (reply->disconnect) session().disconnect_after_reply();
  }
  release();
}

void RpcSubscription::send_confirmation() {
  session().forward_transmissions(held_transmissions_);
  std::vector<std::string>().swap(held_transmissions_);
}

void RpcSubscription::send_rejection() {
  // The application's own reject_subscription, if it sent one; nothing if the call failed.
  session().forward_transmissions(held_transmissions_);
  std::vector<std::string>().swap(held_transmissions_);
}

void RpcSubscription::perform(std::string_view data) {
  std::weak_ptr<Subscription> weak = weak_from_this();
  session().rpc_command("message", identifier_string(), std::string(data), istate_,
                        [weak](boost::system::result<rpc::CommandResponse> reply) {
                          if (auto self = weak.lock()) {
                            static_cast<RpcSubscription&>(*self).on_performed(std::move(reply));
                          }
                        });
}

void RpcSubscription::on_performed(boost::system::result<rpc::CommandResponse> reply) {
  if (phase() == Phase::stopped) return;
  if (!reply) {
    session().log_rpc_failure("message", identifier_string(), reply.error().message());
    return;  // answered with nothing; the connection and its other subscriptions stay up
  }
  if (reply->status == rpc::Status::error) {
    session().log_rpc_failure("message", identifier_string(), reply->error_msg);
  }
  if (reply->status == rpc::Status::success) apply_streams_and_state(*reply);
  session().forward_transmissions(reply->transmissions);
  if (reply->disconnect) session().disconnect_after_reply();
}

void RpcSubscription::apply_streams_and_state(const rpc::CommandResponse& reply) {
  if (reply.stop_streams) remove_all_streams();
  for (const auto& stream : reply.stopped_streams) remove_stream(stream);
  for (const auto& stream : reply.streams) add_stream(stream);
  merge_state(istate_, reply.env.istate);
  session().merge_connection_state(reply.env.cstate);
  read_extension_streams();
}

void RpcSubscription::read_extension_streams() {
  auto whisper = istate_.find("$w");
  auto presence = istate_.find("$p");
  if (whisper == istate_.end() && presence == istate_.end() && !find_extensions()) return;
  auto& ext = extensions();
  ext.whisper_stream = whisper == istate_.end() ? std::string() : whisper->second;
  ext.presence_stream = presence == istate_.end() ? std::string() : presence->second;
}

void RpcSubscription::restore(rpc::StringMap istate, const std::vector<std::string>& streams) {
  istate_ = std::move(istate);
  read_extension_streams();
  hold();  // settles once every stream is live, like a subscribe reply
  for (const auto& stream : streams) add_stream(stream);
  release();
}

void RpcSubscription::on_stop(StopCause cause) {
  // Rejected: send_rejection() forwards the held frames next. Closed: the disconnect call
  // tells the application. Neither needs a call here.
  if (cause != StopCause::unsubscribe) return;
  // The client unsubscribed: its streams stop now (below, in Subscription::stop); the
  // application hears of it in order with the connection's other commands. The subscription
  // is gone when the reply comes, so the session applies what the reply may still carry.
  Session* owner = &session();  // rpc_command runs the reply only while the session is open
  std::string identifier = identifier_string();
  session().rpc_command("unsubscribe", identifier, {}, istate_,
                        [owner, identifier](boost::system::result<rpc::CommandResponse> reply) {
                          if (!reply) {
                            owner->log_rpc_failure("unsubscribe", identifier,
                                                   reply.error().message());
                            return;
                          }
                          owner->forward_transmissions(reply->transmissions);
                          if (reply->disconnect) owner->disconnect_after_reply();
                        });
}

std::string RpcSubscription::istate_json() const {
  boost::json::object state;
  for (const auto& [key, value] : istate_) state[key] = value;
  return boost::json::serialize(state);
}

}  // namespace cablecast::session
