#pragma once
// One logger for the whole server. Modules log through it so that `--log-level` governs all.
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace cablecast::log {

// The shared logger ("cablecast"), created on first use, writing to stderr.
spdlog::logger& get();

// Accepts trace, debug, info, warn, error, critical, off. Returns false for anything else.
bool set_level(std::string_view level);

// Makes client-controlled text safe for one log line: at most `max` bytes (a hostile client
// cannot fill the log with one huge frame) and control characters escaped (\n, \r, \t, \xNN),
// so a newline in a frame cannot forge a line of its own.
std::string clip(std::string_view text, std::size_t max = 300);

}  // namespace cablecast::log

#define CC_LOG_TRACE(...) ::cablecast::log::get().trace(__VA_ARGS__)
#define CC_LOG_DEBUG(...) ::cablecast::log::get().debug(__VA_ARGS__)
#define CC_LOG_INFO(...) ::cablecast::log::get().info(__VA_ARGS__)
#define CC_LOG_WARN(...) ::cablecast::log::get().warn(__VA_ARGS__)
#define CC_LOG_ERROR(...) ::cablecast::log::get().error(__VA_ARGS__)
