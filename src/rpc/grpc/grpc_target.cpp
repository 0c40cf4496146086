#include "rpc/grpc/grpc_target.hpp"

#include <algorithm>
#include <charconv>

#include "rpc/grpc/grpc_error.hpp"

namespace cablecast::rpc::grpc {
namespace {

constexpr std::string_view kScheme = "grpc://";

bool valid_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool valid_ipv6_char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' ||
         c == '.';
}

}  // namespace

boost::system::result<std::string> target_from_url(std::string_view url) {
  if (!url.starts_with(kScheme)) return Error::bad_url;
  std::string_view authority = url.substr(kScheme.size());
  if (authority.ends_with('/')) authority.remove_suffix(1);

  std::string_view host;
  std::string_view rest;  // ":port" or empty
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return Error::bad_url;
    host = authority.substr(0, close + 1);
    const std::string_view inside = host.substr(1, host.size() - 2);
    if (inside.empty() || !std::all_of(inside.begin(), inside.end(), valid_ipv6_char)) {
      return Error::bad_url;
    }
    rest = authority.substr(close + 1);
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (host.empty() || !std::all_of(host.begin(), host.end(), valid_host_char)) {
      return Error::bad_url;
    }
    rest = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
  }

  unsigned port = kDefaultPort;
  if (!rest.empty()) {
    const std::string_view digits = rest.substr(1);
    if (rest[0] != ':' || digits.empty()) return Error::bad_url;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535) {
      return Error::bad_url;
    }
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace cablecast::rpc::grpc
