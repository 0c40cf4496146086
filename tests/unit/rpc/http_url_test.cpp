// The backend URL of --rpc-url as the HTTP transport reads it.
#include "rpc/http_url.hpp"

#include <gtest/gtest.h>

namespace cablecast::rpc::http {
namespace {

TEST(HttpRpcUrl, ReadsHostPortAndBasePath) {
  auto e = parse_http_url("http://localhost:3000/_anycable");
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->tls);
  EXPECT_EQ(e->host, "localhost");
  EXPECT_EQ(e->port, "3000");
  EXPECT_EQ(e->host_header, "localhost:3000");
  EXPECT_EQ(e->target("connect"), "/_anycable/connect");
  EXPECT_EQ(e->describe(), "http://localhost:3000/_anycable");
}

TEST(HttpRpcUrl, DefaultsThePortBySchemeAndLeavesItOutOfTheHostHeader) {
  auto plain = parse_http_url("http://app.example");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->port, "80");
  EXPECT_EQ(plain->host_header, "app.example");
  EXPECT_EQ(plain->target("command"), "/command");
  auto tls = parse_http_url("https://app.example/rpc/");
  ASSERT_TRUE(tls);
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->port, "443");
  EXPECT_EQ(tls->target("disconnect"), "/rpc/disconnect");
  EXPECT_EQ(tls->describe(), "https://app.example:443/rpc");
}

TEST(HttpRpcUrl, TakesIpv6HostsWithoutBracketsForTheResolver) {
  auto e = parse_http_url("http://[::1]:8080/api/cable");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->host_header, "[::1]:8080");
  EXPECT_EQ(e->describe(), "http://[::1]:8080/api/cable");
}

TEST(HttpRpcUrl, RefusesWhatItCannotCallCorrectly) {
  for (const char* url :
       {"", "localhost:3000", "grpc://localhost:50051", "ftp://h/", "http://", "http:///path",
        "http://user:pass@h/rpc", "http://h/rpc?x=1", "http://h/rpc#frag", "http://h:0/",
        "http://h:65536/", "http://h:abc/", "http://h /", "not a url"}) {
    auto e = parse_http_url(url);
    ASSERT_FALSE(e) << url;
    EXPECT_EQ(e.error(), Error::bad_url) << url;
  }
}

}  // namespace
}  // namespace cablecast::rpc::http
