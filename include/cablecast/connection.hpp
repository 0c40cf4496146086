#pragma once
// Identifying a connection: the hook that turns an upgrade request into a user (or refuses it),
// like `connect` in a Rails ApplicationCable::Connection.
//
//   server.on_connect([](const cablecast::ConnectionRequest& request) {
//     auto token = request.cookie("session");
//     if (!token) return cablecast::ConnectResult::reject();
//     return cablecast::ConnectResult::accept({{"user_id", lookup(*token)}});
//   });
//
// The hook runs on the connection's event loop: keep it fast (no blocking I/O).
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace cablecast {

namespace detail {
struct ConnectionRequestFactory;  // the session's (src/session/connection_request.hpp)
}

// A read-only view of the HTTP upgrade request, valid during the hook only. Only the server
// makes one: the hook receives it.
class ConnectionRequest {
 public:
  std::string_view path() const;          // "/cable"
  std::string_view query_string() const;  // raw, without '?'
  // A query parameter, percent-decoded ('+' as space); the first if repeated.
  std::optional<std::string> query(std::string_view name) const;
  // A header value (case-insensitive name); repeated headers are joined with ", ".
  std::optional<std::string> header(std::string_view name) const;
  // A cookie from the Cookie header (value percent-decoded, as Rack does).
  std::optional<std::string> cookie(std::string_view name) const;
  std::string_view remote_address() const { return remote_address_; }

 private:
  friend struct detail::ConnectionRequestFactory;
  // Wraps the transport's request object, whose type stays out of the public headers.
  ConnectionRequest(const void* request, std::string_view remote_address)
      : request_(request), remote_address_(remote_address) {}

  const void* request_;
  std::string_view remote_address_;
};

// The hook's answer. `identifiers` are Rails' `identified_by` values (e.g. {"user": "alice"}):
// channels read them with connection_identifiers(), and logs tag connections with them.
class ConnectResult {
 public:
  static ConnectResult accept(boost::json::object identifiers = {}) {
    return ConnectResult(true, std::move(identifiers));
  }
  // The client gets {"type":"disconnect","reason":"unauthorized","reconnect":false} and a
  // close frame, exactly as Rails' reject_unauthorized_connection.
  static ConnectResult reject() { return ConnectResult(false, {}); }

  bool accepted() const { return accepted_; }
  boost::json::object& identifiers() { return identifiers_; }

 private:
  ConnectResult(bool accepted, boost::json::object identifiers)
      : accepted_(accepted), identifiers_(std::move(identifiers)) {}
  bool accepted_;
  boost::json::object identifiers_;
};

}  // namespace cablecast
