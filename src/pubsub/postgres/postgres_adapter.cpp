// Placeholder until the PostgreSQL adapter lands (issue: several nodes). Refuses clearly.
#include "pubsub/postgres/postgres_adapter.hpp"

namespace cablecast::pubsub {

AdapterOrError make_postgres_adapter(const PubSubOptions&) {
  return {nullptr, "the postgres pub/sub adapter is not built into this version yet"};
}

}  // namespace cablecast::pubsub
