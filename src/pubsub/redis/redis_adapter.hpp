#pragma once
// Redis pub/sub, wire-compatible with Rails' redis adapter (see redis_adapter.cpp).
#include <cablecast/pubsub_options.hpp>

#include "pubsub/factory.hpp"

namespace cablecast::pubsub {

AdapterOrError make_redis_adapter(const PubSubOptions& options);

}  // namespace cablecast::pubsub
