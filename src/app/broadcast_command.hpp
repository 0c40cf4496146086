#pragma once
// `cablecast broadcast STREAM JSON`: publishes one message through the configured broker
// (Redis or PostgreSQL), as Rails' ActionCable.server.broadcast does, so every node's
// subscribers of STREAM receive it.
#include <cablecast/pubsub_options.hpp>
#include <string>

namespace cablecast::app {

// Returns the process exit code; prints a clear error on failure.
int broadcast_command(const PubSubOptions& pubsub, const std::string& stream,
                      const std::string& message_json);

}  // namespace cablecast::app
