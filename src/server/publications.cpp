#include "server/publications.hpp"

#include <atomic>
#include <memory>

#include "broadcast/envelope.hpp"
#include "broadcast/remote_disconnect.hpp"
#include "broker/publish.hpp"
#include "core/log.hpp"

namespace cablecast::server {

boost::system::result<void> publish_body(const broadcast::Body& body, broker::History* history,
                                         pubsub::Adapter& adapter) {
  for (const auto& publication : body.publications) {
    auto sent = broker::publish(history, adapter, publication.stream, publication.message,
                                publication.meta);
    if (!sent) return sent.error();
  }
  if (body.disconnect) {
    return adapter.publish(broadcast::internal_stream(body.disconnect->identifiers),
                           broadcast::encode_internal_disconnect(*body.disconnect));
  }
  return {};
}

void publish_application_payload(std::string_view payload, broker::History* history,
                                 pubsub::Adapter& adapter) {
  // One thread (the broker loop) calls this; the budget is for a flood of bad bodies.
  static std::atomic<std::uint32_t> refused{0};
  auto body = broadcast::parse_body(payload);
  if (!body) {
    const auto seen = refused.fetch_add(1, std::memory_order_relaxed);
    if (seen < 20 || seen % 1000 == 0) {
      CC_LOG_WARN("ignoring an application broadcast that is not a publication: {}: {}",
                  body.error().message(), log::clip(payload));
    }
    return;
  }
  if (auto sent = publish_body(*body, history, adapter); !sent) {
    CC_LOG_ERROR("an application broadcast could not be published: {}", sent.error().message());
  }
}

void deliver_body(const broadcast::Body& body, hub::Hub& hub) {
  for (const auto& publication : body.publications) {
    auto message = std::make_shared<const std::string>(publication.message);
    if (publication.meta.affects_delivery()) {
      hub.deliver(publication.stream, std::move(message),
                  std::make_shared<const broadcast::Meta>(publication.meta));
    } else {
      hub.deliver(publication.stream, std::move(message));
    }
  }
  if (body.disconnect) {
    hub.deliver(broadcast::internal_stream(body.disconnect->identifiers),
                std::make_shared<const std::string>(
                    broadcast::encode_internal_disconnect(*body.disconnect)));
  }
}

}  // namespace cablecast::server
