#include "broker/publish.hpp"

#include "broadcast/envelope.hpp"

namespace cablecast::broker {

boost::system::result<void> publish(History* history, pubsub::Adapter& adapter,
                                    std::string_view stream, std::string_view message,
                                    const broadcast::Meta& meta) {
  if (history && !meta.transient) return history->publish(stream, message, meta);
  if (!meta.affects_delivery()) return adapter.publish(stream, message);
  return adapter.publish(stream, broadcast::wrap(meta, message));
}

}  // namespace cablecast::broker
