#include "rpc/http_url.hpp"

#include <boost/url/parse.hpp>
#include <charconv>

namespace cablecast::rpc::http {

std::string HttpEndpoint::target(std::string_view method) const {
  std::string out = base_path;
  out += '/';
  out += method;
  return out;
}

std::string HttpEndpoint::describe() const {
  std::string out = tls ? "https://" : "http://";
  bool ipv6 = host.find(':') != std::string::npos;
  out += ipv6 ? "[" + host + "]" : host;
  out += ':';
  out += port;
  out += base_path;
  return out;
}

boost::system::result<HttpEndpoint> parse_http_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Error::bad_url;
  const auto& u = *parsed;

  HttpEndpoint endpoint;
  if (u.scheme_id() == boost::urls::scheme::https) {
    endpoint.tls = true;
  } else if (u.scheme_id() != boost::urls::scheme::http) {
    return Error::bad_url;
  }
  if (u.has_userinfo() || u.has_query() || u.has_fragment()) return Error::bad_url;
  if (u.encoded_host().empty()) return Error::bad_url;

  // Boost.URL 1.81 reads "http://h:abc/" as authority "h:" and path "abc/"; after an authority
  // a path must start with '/' (RFC 3986 path-abempty).
  if (!u.encoded_path().empty() && u.encoded_path().front() != '/') return Error::bad_url;
  std::string_view port = u.port();
  if (port.empty()) {
    endpoint.port = endpoint.tls ? "443" : "80";
  } else {
    unsigned number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc{} || end != port.data() + port.size() || number == 0 || number > 65535) {
      return Error::bad_url;
    }
    endpoint.port = std::to_string(number);
  }

  endpoint.host = u.host_address();  // decoded; IPv6 without brackets
  if (endpoint.host.empty()) return Error::bad_url;
  endpoint.host_header = u.encoded_host();
  bool default_port = endpoint.port == (endpoint.tls ? "443" : "80");
  if (!default_port) endpoint.host_header += ":" + endpoint.port;

  endpoint.base_path = u.encoded_path();
  while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/') {
    endpoint.base_path.pop_back();
  }
  return endpoint;
}

}  // namespace cablecast::rpc::http
