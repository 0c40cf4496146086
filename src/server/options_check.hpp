#pragma once
// One place for the rules a ServerOptions must follow, whatever it came from: the command line,
// CABLECAST_* variables, a config file, or C++ code. Server::start refuses to start on a
// broken one rather than serving a mount path without its "/" or a 10-byte message limit.
#include <cablecast/server.hpp>
#include <optional>
#include <string>

namespace cablecast::server {

// The first rule `options` breaks, as a sentence naming the flag; nothing when all hold.
std::optional<std::string> invalid_option(const ServerOptions& options);
// The same for the AnyCable-compatibility settings (part of invalid_option).
std::optional<std::string> invalid_anycable_option(const AnyCableOptions& options);

}  // namespace cablecast::server
