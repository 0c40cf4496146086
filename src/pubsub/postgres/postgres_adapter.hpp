#pragma once
// PostgreSQL LISTEN/NOTIFY, wire-compatible with Rails' postgresql adapter.
#include <cablecast/pubsub_options.hpp>

#include "pubsub/factory.hpp"

namespace cablecast::pubsub {

AdapterOrError make_postgres_adapter(const PubSubOptions& options);

}  // namespace cablecast::pubsub
