#pragma once
// Where an HTTP RPC backend is, parsed from `--rpc-url` (http://host[:port][/base] or https://…).
// Refused with Error::bad_url: other schemes, no host, a bad port, user:password@ (AnyCable
// authenticates with the Bearer secret, and a password in a URL ends up in logs), a query or a
// fragment (the method name is appended to the path, so they could only be misplaced).
#include <boost/system/result.hpp>
#include <string>
#include <string_view>

#include "rpc/error.hpp"

namespace cablecast::rpc::http {

struct HttpEndpoint {
  bool tls = false;         // https
  std::string host;         // for the resolver and TLS SNI: no brackets around IPv6
  std::string port;         // "80", "443" or as given
  std::string host_header;  // the Host header: host as written, with a non-default port
  std::string base_path;    // "" or "/base" (percent-encoded as given, no trailing '/')

  // The request target of one RPC method: base_path + "/connect" etc.
  std::string target(std::string_view method) const;
  // For logs: scheme://host:port/base.
  std::string describe() const;
};

boost::system::result<HttpEndpoint> parse_http_url(std::string_view url);

}  // namespace cablecast::rpc::http
