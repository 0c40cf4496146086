// The public ConnectionRequest view over the transport's HTTP request.
#include <cablecast/connection.hpp>
#include <cctype>

#include "ws/handshake.hpp"

namespace cablecast {

namespace {

const ws::Request& req(const void* p) { return *static_cast<const ws::Request*>(p); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding as Rack does for query strings; malformed escapes stay as they are.
std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view ConnectionRequest::path() const {
  std::string_view target = req(request_).target();
  return target.substr(0, target.find('?'));
}

std::string_view ConnectionRequest::query_string() const {
  std::string_view target = req(request_).target();
  auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

std::optional<std::string> ConnectionRequest::query(std::string_view name) const {
  std::string_view rest = query_string();
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq), true);
    if (key == name) {
      return eq == std::string_view::npos ? std::string()
                                          : percent_decode(pair.substr(eq + 1), true);
    }
  }
  return std::nullopt;
}

std::optional<std::string> ConnectionRequest::header(std::string_view name) const {
  std::optional<std::string> value;
  for (const auto& field : req(request_)) {
    if (!iequals(field.name_string(), name)) continue;
    if (value) {
      *value += ", ";
      *value += field.value();
    } else {
      value = std::string(field.value());
    }
  }
  return value;
}

std::optional<std::string> ConnectionRequest::cookie(std::string_view name) const {
  auto cookies = header("Cookie");
  if (!cookies) return std::nullopt;
  std::string_view rest = *cookies;
  while (!rest.empty()) {
    auto semi = rest.find_first_of(";,");
    std::string_view pair = trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(pair.substr(0, eq)) == name) return percent_decode(trim(pair.substr(eq + 1)), false);
  }
  return std::nullopt;
}

}  // namespace cablecast
