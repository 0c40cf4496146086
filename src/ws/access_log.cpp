#include "ws/access_log.hpp"

#include <fmt/format.h>

#include <boost/asio/ip/address_v4.hpp>

#include "core/log.hpp"

namespace cablecast::ws {

std::string_view to_string(EndReason reason) {
  switch (reason) {
    case EndReason::unknown:
      return "unknown";
    case EndReason::client_closed:
      return "client closed";
    case EndReason::client_disconnected:
      return "client disconnected";
    case EndReason::server_closed:
      return "server closed";
    case EndReason::protocol_error:
      return "protocol error";
    case EndReason::idle_timeout:
      return "idle timeout";
    case EndReason::slow_client:
      return "slow client dropped";
    case EndReason::server_shutdown:
      return "server shutdown";
    case EndReason::network_error:
      return "network error";
  }
  return "unknown";
}

std::string format_peer(const boost::asio::ip::address_v6::bytes_type& ip, std::uint16_t port) {
  namespace ip_ns = boost::asio::ip;
  const ip_ns::address_v6 v6(ip);
  if (!v6.is_v4_mapped()) return fmt::format("[{}]:{}", v6.to_string(), port);
  return fmt::format("{}:{}", ip_ns::make_address_v4(ip_ns::v4_mapped, v6).to_string(), port);
}

void log_access(const AccessRecord& record) {
  log::event(spdlog::level::info, "connection closed",
             {{"remote", record.remote},
              {"path", record.path},
              {"subprotocol", record.subprotocol},
              {"duration_ms", record.duration.count()},
              {"bytes_in", record.bytes_in},
              {"bytes_out", record.bytes_out},
              {"close_code", record.close_code},
              {"reason", to_string(record.reason)}});
}

}  // namespace cablecast::ws
