#pragma once
// Why an RPC call failed, one value per cause a person can act on, so the session logs one clear
// line per cause ("the RPC backend is unreachable", "the RPC secret was refused", ...). Shared by
// both transports. A call failed by Backend::shutdown() gets boost::asio::error::
// operation_aborted instead (the interface's contract), so "we are stopping" never reads as a
// backend fault.
#include <boost/system/error_code.hpp>
#include <type_traits>

namespace cablecast::rpc {

enum class Error {
  timeout = 1,       // no reply within the call's timeout (queueing, connecting, retries included)
  unavailable,       // the backend could not be reached until the timeout: refused, reset,
                     // closed before replying, or it answered 503 (these are retried)
  unauthorized,      // HTTP 401/403: the backend refused the RPC secret (not retried)
  http_status,       // any other non-2xx HTTP status (not retried)
  malformed_reply,   // the reply is not HTTP, or its body is not JSON
  incomplete_reply,  // the connection closed in the middle of the reply
  bad_reply,         // JSON of the wrong shape: a field of the wrong type, an unknown status
  reply_too_large,   // the reply body is over the size limit
  tls_failed,        // TLS handshake or certificate verification failed (not retried)
  bad_url,           // the backend URL is not one this transport can call
};

const boost::system::error_category& rpc_category();

inline boost::system::error_code make_error_code(Error e) {
  return {static_cast<int>(e), rpc_category()};
}

}  // namespace cablecast::rpc

template <>
struct boost::system::is_error_code_enum<cablecast::rpc::Error> : std::true_type {};
