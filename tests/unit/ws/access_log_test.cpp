// The peer in the access log line, from the 16 bytes a connection keeps of it.
#include "ws/access_log.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

namespace cablecast::ws {
namespace {

namespace ip = boost::asio::ip;

TEST(AccessLogPeer, WritesAnIpv4PeerKeptAsV4MappedAsIpAndPort) {
  const auto v4 = ip::make_address_v4("192.0.2.7");
  EXPECT_EQ(format_peer(ip::make_address_v6(ip::v4_mapped, v4).to_bytes(), 51234),
            "192.0.2.7:51234");
}

TEST(AccessLogPeer, WritesAnIpv6PeerInBrackets) {
  EXPECT_EQ(format_peer(ip::make_address_v6("2001:db8::1").to_bytes(), 443), "[2001:db8::1]:443");
}

}  // namespace
}  // namespace cablecast::ws
