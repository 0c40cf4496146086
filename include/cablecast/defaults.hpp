#pragma once
// Every limit's and timeout's default, defined once: ServerOptions, AnyCableOptions, the
// transport's own limits and the binary's settings all start from these, so a default changed
// here changes everywhere (and docs/security.md lists them).
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace cablecast::defaults {

inline constexpr std::size_t max_message_size = 1024 * 1024;  // bytes; bigger: close 1009
// Bytes queued for a client that stops reading before it is dropped. Peers use ~1 MiB; 4 MiB
// leaves room for bursts of large broadcasts.
inline constexpr std::size_t max_outbound_bytes = 4 * 1024 * 1024;
inline constexpr std::size_t max_subscriptions = 512;        // per connection
inline constexpr std::uint32_t max_commands_per_second = 0;  // per connection; 0 = off (Rails)
inline constexpr std::chrono::milliseconds handshake_timeout{5000};  // slowloris guard
inline constexpr std::chrono::milliseconds idle_timeout{60000};      // 0 = off
inline constexpr std::chrono::milliseconds shutdown_timeout{5000};   // graceful drain
inline constexpr std::chrono::milliseconds health_interval{2000};    // the /health canary
inline constexpr std::chrono::seconds pubsub_wait{0};                // 0 = wait forever

inline constexpr std::chrono::milliseconds rpc_timeout{3000};  // per RPC call, retries included

// AnyCable's extended protocol.
inline constexpr std::chrono::seconds history_ttl{300};
inline constexpr std::chrono::seconds sessions_ttl{300};
inline constexpr std::chrono::seconds presence_ttl{15};
inline constexpr std::chrono::seconds pong_timeout{0};  // 0: pongs not required

}  // namespace cablecast::defaults
