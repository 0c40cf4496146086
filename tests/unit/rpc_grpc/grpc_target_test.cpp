// `--rpc-url grpc://…` -> the target gRPC dials; anything else is refused, never guessed.
#include "rpc/grpc/grpc_target.hpp"

#include <gtest/gtest.h>

#include "rpc/grpc/grpc_error.hpp"

namespace cablecast::rpc::grpc {
namespace {

std::string target(std::string_view url) {
  auto result = target_from_url(url);
  return result ? *result : "refused: " + result.error().message();
}

TEST(GrpcTarget, AHostAndPortBecomeTheTarget) {
  EXPECT_EQ(target("grpc://localhost:50051"), "localhost:50051");
  EXPECT_EQ(target("grpc://10.0.0.7:9000"), "10.0.0.7:9000");
  EXPECT_EQ(target("grpc://rpc.internal:443/"), "rpc.internal:443");
}

TEST(GrpcTarget, AnIpv6AddressKeepsItsBrackets) {
  EXPECT_EQ(target("grpc://[::1]:50051"), "[::1]:50051");
  EXPECT_EQ(target("grpc://[::1]"), "[::1]:50051");
}

TEST(GrpcTarget, WithoutAPortTheTargetUsesAnycablesDefaultPort) {
  EXPECT_EQ(target("grpc://anycable-rpc"), "anycable-rpc:50051");
}

TEST(GrpcTarget, OtherSchemesAreRefused) {
  for (const char* url : {"http://localhost:50051", "grpcs://localhost:50051", "localhost:50051",
                          "GRPC://localhost:50051"}) {
    auto result = target_from_url(url);
    ASSERT_FALSE(result) << url;
    EXPECT_EQ(result.error(), Error::bad_url) << url;
  }
}

TEST(GrpcTarget, MalformedAuthoritiesAreRefused) {
  for (const char* url :
       {"grpc://", "grpc://:50051", "grpc://host:", "grpc://host:0", "grpc://host:65536",
        "grpc://host:50x", "grpc://user@host:1", "grpc://host:1/path", "grpc://host:1?x=1",
        "grpc://[::1", "grpc://[]:1", "grpc://[::1]x"}) {
    auto result = target_from_url(url);
    EXPECT_FALSE(result) << url << " -> " << (result ? *result : "");
  }
}

}  // namespace
}  // namespace cablecast::rpc::grpc
