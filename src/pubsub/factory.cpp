#include "pubsub/factory.hpp"

#include "pubsub/memory_adapter.hpp"
#include "pubsub/postgres/postgres_adapter.hpp"
#include "pubsub/redis/redis_adapter.hpp"

namespace cablecast::pubsub {

AdapterOrError make_adapter(const PubSubOptions& options) {
  if (options.adapter == "memory") return {std::make_unique<MemoryAdapter>(), {}};
  if (options.adapter == "redis") return make_redis_adapter(options);
  if (options.adapter == "postgres" || options.adapter == "postgresql") {
    return make_postgres_adapter(options);
  }
  return {nullptr, "unknown pub/sub adapter \"" + options.adapter +
                       "\" (expected memory, redis or postgres)"};
}

}  // namespace cablecast::pubsub
