#include "rpc/error.hpp"

#include "core/error_category.hpp"

namespace cablecast::rpc {
namespace {

const char* describe(Error e) {
  switch (e) {
    case Error::timeout:
      return "the RPC backend did not answer within the RPC timeout";
    case Error::unavailable:
      return "the RPC backend is unreachable (refused, closed or 503 until the RPC timeout)";
    case Error::unauthorized:
      return "the RPC backend refused the RPC secret (HTTP 401/403)";
    case Error::http_status:
      return "the RPC backend answered with an HTTP error status";
    case Error::malformed_reply:
      return "the RPC backend's reply is not valid HTTP or not JSON";
    case Error::incomplete_reply:
      return "the RPC backend closed the connection in the middle of its reply";
    case Error::bad_reply:
      return "the RPC backend's reply has a field of the wrong type or value";
    case Error::reply_too_large:
      return "the RPC backend's reply is larger than the size limit";
    case Error::tls_failed:
      return "TLS with the RPC backend failed (handshake or certificate)";
    case Error::bad_url:
      return "the RPC URL is not valid for this transport";
  }
  return nullptr;
}

}  // namespace

const boost::system::error_category& rpc_category() {
  static const core::ErrorCategory<Error, describe> category("rpc", "RPC error");
  return category;
}

}  // namespace cablecast::rpc
