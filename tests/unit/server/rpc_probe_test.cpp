// Which host and port the RPC probe connects to, for each kind of --rpc-url.
#include "server/rpc_probe.hpp"

#include <gtest/gtest.h>

namespace cablecast::server {
namespace {

TEST(RpcProbeTarget, TakesTheHostAndPortOfTheUrl) {
  auto target = probe_target_for("http://rpc.internal:3000/_anycable");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->host, "rpc.internal");
  EXPECT_EQ(target->port, "3000");
  auto grpc = probe_target_for("grpc://127.0.0.1:50051");
  ASSERT_TRUE(grpc);
  EXPECT_EQ(grpc->host, "127.0.0.1");
  EXPECT_EQ(grpc->port, "50051");
}

TEST(RpcProbeTarget, UsesTheSchemesDefaultPort) {
  EXPECT_EQ(probe_target_for("http://app/_anycable")->port, "80");
  EXPECT_EQ(probe_target_for("https://app/_anycable")->port, "443");
}

TEST(RpcProbeTarget, UnbracketsAnIpv6Literal) {
  auto target = probe_target_for("http://[::1]:8080/rpc");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->host, "::1");
}

TEST(RpcProbeTarget, RefusesAUrlWithoutAHost) {
  EXPECT_FALSE(probe_target_for("not a url"));
  EXPECT_FALSE(probe_target_for("http:///path"));
}

}  // namespace
}  // namespace cablecast::server
