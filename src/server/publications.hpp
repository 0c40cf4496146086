#pragma once
// Where a broadcast body (broadcast/publication.hpp) goes, by how it reached this node:
// - HTTP (POST /_broadcast) reached one node: publish_body() sends it through the pub/sub
//   adapter, so every node gets it (publications in order, meta in the envelope);
// - anycable-rails' Redis channel reaches every node by itself: deliver_body() delivers to this
//   node's clients only (publishing it again would deliver it once per node).
// A remote disconnect becomes a message on Rails' internal broadcasting of those identifiers
// (broadcast/remote_disconnect.hpp), where the matching connections listen.
#include <boost/system/result.hpp>

#include "broadcast/publication.hpp"
#include "broker/history.hpp"
#include "hub/hub.hpp"
#include "pubsub/adapter.hpp"

namespace cablecast::server {

// Publishes in order; stops at the first publish the adapter refuses (the broker is down) and
// returns its error: the publications before it did leave, the rest did not.
// Publications enter `history` (may be null: off) unless transient.
boost::system::result<void> publish_body(const broadcast::Body& body, broker::History* history,
                                         pubsub::Adapter& adapter);

// A publication body the application handed this node alone to publish (anycable-rails' redisx
// stream): parsed and published (history included); a malformed one is logged (budgeted).
void publish_application_payload(std::string_view payload, broker::History* history,
                                 pubsub::Adapter& adapter);

// Delivers in order to this node's shards. Any thread.
void deliver_body(const broadcast::Body& body, hub::Hub& hub);

}  // namespace cablecast::server
