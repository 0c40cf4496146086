#pragma once
// Which pub/sub adapter connects this node to the others, as Rails' config/cable.yml says it.
#include <string>

namespace cablecast {

struct PubSubOptions {
  // "memory" (one process, the default: nothing to install), "redis" or "postgres".
  std::string adapter = "memory";
  std::string redis_url = "redis://127.0.0.1:6379/0";  // cable.yml `url` for adapter: redis
  std::string postgres_url = "postgres://127.0.0.1:5432/postgres";  // libpq URI or key=value
  // cable.yml `channel_prefix`: broadcasting "chat_1" travels as "<prefix>:chat_1", exactly as
  // Rails' adapters name it, so a Rails app with the same prefix reaches our subscribers.
  std::string channel_prefix;
};

}  // namespace cablecast
