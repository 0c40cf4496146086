#include "rpc/grpc/grpc_error.hpp"

#include "core/error_category.hpp"

namespace cablecast::rpc::grpc {
namespace {

const char* describe(Error e) {
  switch (e) {
    case Error::bad_url:
      return "the RPC URL is not grpc://host:port";
    case Error::timeout:
      return "the RPC call timed out";
    case Error::unavailable:
      return "the RPC server is unavailable";
    case Error::overloaded:
      return "the RPC server is overloaded (RESOURCE_EXHAUSTED)";
    case Error::bad_response:
      return "the RPC server sent an invalid reply";
    case Error::call_failed:
      return "the RPC call failed";
  }
  return nullptr;
}

}  // namespace

const boost::system::error_category& grpc_category() {
  static const core::ErrorCategory<Error, describe> category("rpc.grpc", "gRPC RPC error");
  return category;
}

}  // namespace cablecast::rpc::grpc
