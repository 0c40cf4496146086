#pragma once
// Why a call over gRPC failed, as error codes in the completions of GrpcBackend. The session
// logs the message and answers the client as AnyCable does (connect: close 1011; command:
// nothing). A call ended by shutdown() fails with boost::asio::error::operation_aborted, not
// with one of these. gRPC's own status text goes to the log next to call_failed.
#include <boost/system/error_code.hpp>
#include <type_traits>

namespace cablecast::rpc::grpc {

enum class Error {
  bad_url = 1,   // BackendOptions::url is not grpc://host:port
  timeout,       // no answer within BackendOptions::timeout (queueing and retries included)
  unavailable,   // the application could not be reached, still so when the retries ran out
  overloaded,    // the application answered RESOURCE_EXHAUSTED until the retries ran out
  bad_response,  // an answer that is not a valid reply (e.g. a status outside the enum)
  call_failed,   // any other gRPC status (the application raised: UNKNOWN; UNIMPLEMENTED; …)
};

const boost::system::error_category& grpc_category();

inline boost::system::error_code make_error_code(Error e) {
  return {static_cast<int>(e), grpc_category()};
}

}  // namespace cablecast::rpc::grpc

template <>
struct boost::system::is_error_code_enum<cablecast::rpc::grpc::Error> : std::true_type {};
