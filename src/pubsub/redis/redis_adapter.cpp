// Placeholder until the Redis adapter lands (issue: several nodes). Refuses clearly.
#include "pubsub/redis/redis_adapter.hpp"

namespace cablecast::pubsub {

AdapterOrError make_redis_adapter(const PubSubOptions&) {
  return {nullptr, "the redis pub/sub adapter is not built into this version yet"};
}

}  // namespace cablecast::pubsub
