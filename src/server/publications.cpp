#include "server/publications.hpp"

#include <memory>

#include "broadcast/envelope.hpp"
#include "broadcast/remote_disconnect.hpp"
#include "broker/publish.hpp"

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
