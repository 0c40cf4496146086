#pragma once
// The access log: one `info` line per WebSocket connection when it ends (docs/logging.md), with
// what an operator asks first: who, where, how long, how much, and why it ended.
#include <boost/asio/ip/address_v6.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cablecast::ws {

// Why a WebSocket connection ended. The first cause wins: a close handshake that then times
// out is still the idle timeout that started it.
enum class EndReason : std::uint8_t {
  unknown,
  client_closed,        // the client sent a close frame
  client_disconnected,  // the TCP connection ended without a close frame (tab closed, network)
  server_closed,        // the application or the session closed it (close code says why)
  protocol_error,       // a frame broke RFC 6455 or a limit (close code 1002, 1007, 1009...)
  idle_timeout,         // nothing received within --idle-timeout
  slow_client,          // over --max-outbound-bytes, dropped
  server_shutdown,      // SIGTERM/SIGINT drain, or its deadline
  network_error,        // a read or write failed
};

std::string_view to_string(EndReason reason);

// 1006 (RFC 6455 7.1.5): no close frame went either way.
inline constexpr std::uint16_t kNoCloseFrame = 1006;

struct AccessRecord {
  std::string_view remote;       // "ip:port", or "unknown" when the peer reset first
  std::string_view path;         // the request path, without its query (tokens live there)
  std::string_view subprotocol;  // negotiated, may be empty
  std::chrono::milliseconds duration{0};
  std::uint64_t bytes_in = 0;   // everything read from the socket, the HTTP request included
  std::uint64_t bytes_out = 0;  // everything written, the 101 response included
  std::uint16_t close_code = kNoCloseFrame;
  EndReason reason = EndReason::unknown;
};

// "ip:port" ("[ip]:port" for IPv6), from the address a connection keeps in 16 bytes (IPv4 as
// v4-mapped) because the kernel no longer tells it once both sides closed.
std::string format_peer(const boost::asio::ip::address_v6::bytes_type& ip, std::uint16_t port);

// Logs the line at info ("connection closed" with the record as fields), within the caller's
// ConnectionScope, which gives it the connection id.
void log_access(const AccessRecord& record);

}  // namespace cablecast::ws
