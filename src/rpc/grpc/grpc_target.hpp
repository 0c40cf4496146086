#pragma once
// `--rpc-url grpc://host:port` -> the target gRPC dials ("host:port", resolved by gRPC's DNS
// resolver). host may be a name, an IPv4 address or [IPv6]; the port defaults to 50051, the
// port anycable-rb's gRPC server listens on. A trailing "/" is allowed; a path, query, user
// info or another scheme (grpcs:// included, see grpc_backend.hpp) is refused with
// Error::bad_url.
#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace cablecast::rpc::grpc {

inline constexpr unsigned kDefaultPort = 50051;

boost::system::result<std::string> target_from_url(std::string_view url);

}  // namespace cablecast::rpc::grpc
