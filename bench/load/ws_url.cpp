#include "ws_url.hpp"

#include <boost/system/errc.hpp>
#include <charconv>

namespace cablecast::bench {

boost::system::result<WsUrl> parse_ws_url(std::string_view url) {
  const auto invalid = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  constexpr std::string_view kScheme = "ws://";
  if (!url.starts_with(kScheme)) return invalid;
  url.remove_prefix(kScheme.size());
  WsUrl out;
  auto slash = url.find_first_of("/?");
  std::string_view authority = url.substr(0, slash);
  if (slash == std::string_view::npos) {
    out.target = "/";
  } else {
    // "ws://host?x" has an empty path: the request target is then "/?x".
    out.target = url[slash] == '?' ? "/" : "";
    out.target.append(url.substr(slash));
  }
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return invalid;
    }
    out.port = static_cast<std::uint16_t>(value);
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return invalid;
  out.host = std::string(authority);
  return out;
}

}  // namespace cablecast::bench
