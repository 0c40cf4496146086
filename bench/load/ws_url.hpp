#pragma once
// The server address given as ws://host:port/path?query, split for connect() and the request.
#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace cablecast::bench {

struct WsUrl {
  std::string host;         // as written (IPv4 literal or name)
  std::uint16_t port = 80;  // 80 when the URL has none
  std::string target;       // path plus query, "/" when empty
};

// Accepts ws:// only (the load generator does not speak TLS). Errors: invalid_argument.
boost::system::result<WsUrl> parse_ws_url(std::string_view url);

}  // namespace cablecast::bench
