#include "pubsub/redis/redis_url.hpp"

#include <charconv>

namespace cablecast::pubsub::redis {
namespace {

UrlOrError fail(std::string why) { return {std::nullopt, std::move(why)}; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Userinfo may carry reserved characters percent-encoded (a password with '@' or ':').
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Only `db` is understood; anything else would be silently ignored, so it is refused instead.
std::string apply_query(std::string_view query, RedisEndpoint& endpoint) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (key != "db") return "unsupported URL parameter \"" + std::string(key) + "\" (only db=N)";
    if (!parse_number(value, endpoint.db))
      return "db must be a number, got \"" + std::string(value) + "\"";
  }
  return {};
}

}  // namespace

std::string RedisEndpoint::describe() const {
  std::string where = unix_path.empty()
                          ? (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                                std::to_string(port)
                          : "unix:" + unix_path;
  where += " db " + std::to_string(db);
  if (!user.empty()) where += " as " + user;
  return where;
}

UrlOrError parse_redis_url(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return fail("expected redis://host:port/db or unix:///path, got no scheme");
  }
  std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  if (scheme == "rediss") {
    return fail("rediss:// (Redis over TLS) is not supported yet; use redis:// or a TLS tunnel");
  }
  if (scheme != "redis" && scheme != "unix") {
    return fail("unknown scheme \"" + std::string(scheme) + "\" (expected redis:// or unix://)");
  }
  if (rest.find('#') != std::string_view::npos) return fail("a URL fragment (#) is not allowed");

  RedisEndpoint endpoint;
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }

  if (scheme == "unix") {
    // unix:///run/redis.sock: the authority is empty and the path is the socket.
    if (rest.empty() || rest.front() != '/') return fail("unix:// needs an absolute socket path");
    endpoint.unix_path = std::string(rest);
    if (auto why = apply_query(query, endpoint); !why.empty()) return fail(std::move(why));
    return {std::move(endpoint), {}};
  }

  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view path = rest.substr(authority.size());

  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(colon == std::string_view::npos ? std::string_view{}
                                                                   : userinfo.substr(colon + 1));
    if (!user || !password) return fail("malformed percent-encoding in the user or password");
    endpoint.user = std::move(*user);
    endpoint.password = std::move(*password);
  }

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated [IPv6] host");
    endpoint.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected text after the [IPv6] host");
      port_text = after.substr(1);
      if (port_text.empty()) return fail("empty port");
    }
  } else {
    auto colon = authority.find(':');
    endpoint.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return fail("empty port");
    }
  }
  if (endpoint.host.empty()) return fail("missing host (e.g. redis://127.0.0.1:6379/0)");
  if (!port_text.empty()) {
    unsigned port = 0;
    if (!parse_number(port_text, port) || port == 0 || port > 65535) {
      return fail("port must be 1-65535, got \"" + std::string(port_text) + "\"");
    }
    endpoint.port = static_cast<std::uint16_t>(port);
  }

  if (path.size() > 1) {
    if (!parse_number(path.substr(1), endpoint.db)) {
      return fail("the path must be a database number (/0), got \"" + std::string(path) + "\"");
    }
  }
  if (auto why = apply_query(query, endpoint); !why.empty()) return fail(std::move(why));
  return {std::move(endpoint), {}};
}

}  // namespace cablecast::pubsub::redis
