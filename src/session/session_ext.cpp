// AnyCable's extended commands: history, whisper, presence (join / leave / info), pong and
// ping (protocol.md section 7). They work for every client, as in AnyCable; only the position
// fields on delivered frames and resumable sessions are reserved to the ext sub-protocol.
#include <boost/asio/post.hpp>
#include <ctime>

#include "core/log.hpp"
#include "protocol/encode.hpp"
#include "session/history_fetch.hpp"
#include "session/session.hpp"
#include "session/subscription.hpp"
#include "ws/frame_encoder.hpp"

namespace cablecast::session {

using protocol::CommandType;

void Session::process_extended(protocol::Command& command) {
  switch (command.type) {
    case CommandType::pong:
      return;  // on_text already counted it as a sign of life
    case CommandType::ping:
      send_text(protocol::encode_pong());
      return;
    case CommandType::whisper:
      return whisper(command.identifier, command.data);
    case CommandType::presence:
      return presence_info(command.identifier);
    default:
      break;
  }
  auto* found = find(command.identifier);
  if (!found || (*found)->phase() != Subscription::Phase::confirmed) {
    if (bad_input_log_.allow()) {
      CC_LOG_ERROR("Unable to find subscription with identifier: {} (not subscribed)",
                   log::clip(command.identifier));
    }
    return;
  }
  auto subscription = *found;
  switch (command.type) {
    case CommandType::history:
      if (!env_.broker.history) {
        send_text(protocol::encode_reject_history(subscription->identifier()));
        return;
      }
      if (auto& ext = subscription->extensions(); ext.awaiting_history) {
        ext.awaiting_history = false;  // the restore's hold becomes this request's
      } else {
        ext.positions.hold();
      }
      return send_history(subscription, std::move(*command.history));
    case CommandType::join:
      return join_presence(*subscription, std::move(*command.presence));
    case CommandType::leave:
      return leave_presence(*subscription, /*at_once=*/true);
    default:
      return;
  }
}

void Session::after_subscribe(const std::shared_ptr<Subscription>& subscription) {
  auto* ext = subscription->find_extensions();
  if (!ext) return;
  auto after = std::move(subscription->extensions().after_confirm);
  if (!after) return;
  if (after->join) join_presence(*subscription, std::move(*after->join));
  if (auto& history = after->history) {
    if (env_.broker.history) return send_history(subscription, std::move(*history));
    send_text(protocol::encode_reject_history(subscription->identifier()));
    subscription->release_held();
  }
}

void Session::send_history(const std::shared_ptr<Subscription>& subscription,
                           protocol::HistoryRequest request) {
  // The caller put the subscription's live messages on hold; history_fetch releases them.
  hold_commands();
  fetch_history(*env_.broker.history, env_.io.get_executor(), subscription->streams(),
                std::move(request), env_.broker.history_ttl,
                [weak = weak_self(), subscription](HistoryOutcome outcome) {
                  auto self = weak.lock();
                  if (!self) return;
                  Session& session = **self;
                  log::ConnectionScope scope(session.log_id());
                  if (!session.closed_ && subscription->phase() != Subscription::Phase::stopped) {
                    session.deliver_history(*subscription, std::move(outcome));
                  }
                  session.resume_commands();
                });
}

void Session::deliver_history(Subscription& subscription, HistoryOutcome outcome) {
  const std::string_view identifier = subscription.identifier();
  if (!outcome) {
    CC_LOG_DEBUG("history for {} refused: {}", log::clip(identifier), outcome.error().message());
    send_text(protocol::encode_reject_history(identifier));
  } else {
    auto& positions = subscription.extensions().positions;
    for (const auto& [stream, slice] : *outcome) {
      for (const auto& entry : slice.entries) {
        if (!positions.admit_history(stream, slice.epoch, entry.offset)) continue;
        send_text(protocol::encode_positioned_message(identifier, entry.message, stream,
                                                      slice.epoch, entry.offset));
      }
    }
    send_text(protocol::encode_confirm_history(identifier));
  }
  subscription.release_held();
}

void Session::whisper(const std::string& identifier, std::string_view data) {
  auto* found = find(identifier);
  const auto* ext = found ? (*found)->find_extensions() : nullptr;
  if (!ext || ext->whisper_stream.empty() || (*found)->phase() != Subscription::Phase::confirmed) {
    // As AnyCable: ignored (a stream without whispers is not an error of the client's).
    CC_LOG_DEBUG("whisper ignored: {} has no whisper stream", log::clip(identifier));
    return;
  }
  broadcast::Meta meta;
  meta.exclude_socket = sid_.str();  // never back to the sender
  meta.transient = true;             // never in history
  if (auto sent = publish(env_, ext->whisper_stream, data, meta); !sent) {
    CC_LOG_WARN("whisper to {} failed: {}", log::clip(ext->whisper_stream), sent.error().message());
  }
}

void Session::join_presence(Subscription& subscription, protocol::PresenceRequest presence) {
  auto& ext = subscription.extensions();
  if (ext.presence_stream.empty() || !env_.broker.presence) {
    CC_LOG_DEBUG("presence join ignored: {} has no presence stream",
                 log::clip(subscription.identifier()));
    return;
  }
  ext.presence_id = presence.id;
  ext.presence_info = presence.info;
  env_.broker.presence->join(
      ext.presence_stream, sid_.str(),
      broker::PresenceMember{std::move(presence.id), std::move(presence.info)});
}

void Session::leave_presence(Subscription& subscription, bool at_once) {
  auto* ext = subscription.find_extensions();
  if (!ext || ext->presence_id.empty() || !env_.broker.presence) return;
  if (at_once) {
    env_.broker.presence->leave(ext->presence_stream, sid_.str());
  } else {
    env_.broker.presence->expire(ext->presence_stream, sid_.str());
  }
  subscription.extensions().presence_id.clear();
  subscription.extensions().presence_info.clear();
}

void Session::presence_info(const std::string& identifier) {
  auto* found = find(identifier);
  const auto* ext = found ? (*found)->find_extensions() : nullptr;
  if (!ext || ext->presence_stream.empty() || !env_.broker.presence) {
    send_text(protocol::encode_presence_error(identifier));
    return;
  }
  env_.broker.presence->members(
      ext->presence_stream, env_.io.get_executor(),
      [weak = weak_self(),
       identifier](boost::system::result<std::vector<broker::PresenceMember>> members) {
        auto self = weak.lock();
        if (!self || (*self)->closed_) return;
        Session& session = **self;
        log::ConnectionScope scope(session.log_id());
        if (!members) {
          session.send_text(protocol::encode_presence_error(identifier));
          return;
        }
        std::vector<std::pair<std::string, std::string>> records;
        records.reserve(members->size());
        for (auto& m : *members) records.emplace_back(std::move(m.id), std::move(m.info));
        session.send_text(protocol::encode_presence_info(identifier, records));
      });
}

void Session::on_heartbeat(std::uint32_t now) {
  if (closed_ || !extended_) return;
  if (restored_at_ != 0 && now - restored_at_ >= env_.broker.restore_hold.count()) {
    // The client never asked for the restored subscriptions' history: send what waited.
    restored_at_ = 0;
    for (auto& s : subscriptions_) {
      if (auto* ext = s->find_extensions(); ext && ext->awaiting_history) {
        s->extensions().awaiting_history = false;
        s->release_held();
      }
    }
  }
  const std::uint32_t timeout = env_.broker.pong_timeout_seconds;
  if (timeout == 0) return;
  if (awaiting_pong_since_ == 0) {
    awaiting_pong_since_ = now;  // the ping just sent must be answered
  } else if (now - awaiting_pong_since_ >= timeout) {
    CC_LOG_INFO("closing connection {}: no pong for {} s (--pong-timeout)", sid_.view(), timeout);
    if (closed_) return;
    resumable_ = true;  // the client may come back and restore
    send_text(protocol::encode_disconnect("no_pong", true));
    transport_.close(ws::close_code::normal, "No Pong");
  }
}

}  // namespace cablecast::session
