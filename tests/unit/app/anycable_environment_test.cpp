// anycable-go's environment variables configure `cablecast serve` too, so a deployment set up
// for anycable-go keeps its environment.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "app/settings.hpp"

namespace cablecast::app {
namespace {

struct FakeEnvironment {
  std::map<std::string, std::string> values;
  const char* operator()(const char* name) const {
    auto it = values.find(name);
    return it == values.end() ? nullptr : it->second.c_str();
  }
};

TEST(AnyCableEnvironment, FillsTheSecretsRpcAndJwtSettings) {
  ServeSettings s;
  FakeEnvironment env{{{"ANYCABLE_SECRET", "s3cret"},
                       {"ANYCABLE_RPC_HOST", "http://app:3000/_anycable"},
                       {"ANYCABLE_HTTP_RPC_SECRET", "rpc"},
                       {"ANYCABLE_RPC_CONCURRENCY", "12"},
                       {"ANYCABLE_HEADERS", "cookie,x-api-token"},
                       {"ANYCABLE_JWT_PARAM", "token"},
                       {"ANYCABLE_ENFORCE_JWT", "true"},
                       {"ANYCABLE_PUBLIC_STREAMS", "true"},
                       {"ANYCABLE_TURBO_STREAMS_SECRET", "turbo"}}};
  ASSERT_FALSE(apply_anycable_environment(s, env));
  const auto& a = s.server.anycable;
  EXPECT_EQ(a.secret, "s3cret");
  EXPECT_EQ(a.rpc.url, "http://app:3000/_anycable");
  EXPECT_EQ(a.rpc.secret, "rpc");
  EXPECT_EQ(a.rpc.concurrency, 12u);
  EXPECT_EQ(s.finish().anycable.rpc.forward_headers,
            (std::vector<std::string>{"cookie", "x-api-token"}));
  EXPECT_EQ(a.jwt.param, "token");
  EXPECT_TRUE(a.jwt.enforce);
  EXPECT_TRUE(a.streams.public_streams);
  EXPECT_EQ(a.streams.turbo_secret, "turbo");
}

TEST(AnyCableEnvironment, AnRpcHostWithoutSchemeIsGrpcAsInAnyCable) {
  ServeSettings s;
  ASSERT_FALSE(
      apply_anycable_environment(s, FakeEnvironment{{{"ANYCABLE_RPC_HOST", "localhost:50051"}}}));
  EXPECT_EQ(s.server.anycable.rpc.url, "grpc://localhost:50051");
}

TEST(AnyCableEnvironment, OlderSpellingsCountWhenTheNewOneIsAbsent) {
  ServeSettings s;
  ASSERT_FALSE(apply_anycable_environment(
      s, FakeEnvironment{{{"ANYCABLE_JWT_ID_KEY", "old"}, {"ANYCABLE_TURBO_RAILS_KEY", "k"}}}));
  EXPECT_EQ(s.server.anycable.jwt.secret, "old");
  EXPECT_EQ(s.server.anycable.streams.turbo_secret, "k");
  ServeSettings both;
  ASSERT_FALSE(apply_anycable_environment(
      both, FakeEnvironment{{{"ANYCABLE_JWT_SECRET", "new"}, {"ANYCABLE_JWT_ID_KEY", "old"}}}));
  EXPECT_EQ(both.server.anycable.jwt.secret, "new");
}

TEST(AnyCableEnvironment, ABadValueIsRefusedNamingTheVariable) {
  ServeSettings s;
  auto error = apply_anycable_environment(s, FakeEnvironment{{{"ANYCABLE_ENFORCE_JWT", "yes"}}});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("ANYCABLE_ENFORCE_JWT"), std::string::npos);
  EXPECT_TRUE(apply_anycable_environment(s, FakeEnvironment{{{"ANYCABLE_RPC_CONCURRENCY", "-1"}}}));
}

TEST(AnyCableEnvironment, NothingSetChangesNothing) {
  ServeSettings s;
  ASSERT_FALSE(apply_anycable_environment(s, FakeEnvironment{}));
  EXPECT_TRUE(s.server.anycable.rpc.url.empty());
  EXPECT_EQ(s.server.anycable.jwt.param, "jid");
}

}  // namespace
}  // namespace cablecast::app
