#pragma once
// The one way a broadcast leaves this node: through history when it should enter it (history
// on and not transient: it gets a position), else through the pub/sub adapter as is, with its
// meta in the envelope when delivery depends on it (broadcast/envelope.hpp).
#include <boost/system/result.hpp>
#include <string_view>

#include "broadcast/publication.hpp"
#include "broker/history.hpp"
#include "pubsub/adapter.hpp"

namespace cablecast::broker {

// `history` may be null (history off). Any thread.
boost::system::result<void> publish(History* history, pubsub::Adapter& adapter,
                                    std::string_view stream, std::string_view message,
                                    const broadcast::Meta& meta = {});

}  // namespace cablecast::broker
