#include "rpc/grpc/grpc_error.hpp"

#include <string>

namespace cablecast::rpc::grpc {
namespace {

// Boost's error_category has a protected non-virtual destructor by design (categories are never
// deleted through a base pointer); g++'s -Wnon-virtual-dtor does not know that.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class GrpcCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "rpc.grpc"; }
  std::string message(int value) const override {
    switch (static_cast<Error>(value)) {
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
    return "unknown gRPC RPC error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& grpc_category() {
  static const GrpcCategory category;
  return category;
}

}  // namespace cablecast::rpc::grpc
