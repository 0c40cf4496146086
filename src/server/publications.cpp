#include "server/publications.hpp"

#include <memory>

#include "broadcast/envelope.hpp"
#include "broadcast/remote_disconnect.hpp"

namespace cablecast::server {

boost::system::result<void> publish_body(const broadcast::Body& body, pubsub::Adapter& adapter) {
  for (const auto& publication : body.publications) {
    auto sent = adapter.publish(publication.stream, broadcast::to_wire(publication));
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
