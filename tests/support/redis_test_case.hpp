#pragma once
// The fixture the cases against the shared test redis-server start from: SetUp parses
// CABLECAST_TEST_REDIS_URL into `endpoint` and opens `raw`, a plain connection to it, and fails
// the case when either is missing (the Redis cases never skip; scripts/with-services.sh).
#include <gtest/gtest.h>

#include <memory>

#include "redis_test_server.hpp"

namespace cablecast::testing {

struct RedisTestCase : ::testing::Test {
  void SetUp() override {
    ASSERT_FALSE(redis_test_url().empty())
        << "CABLECAST_TEST_REDIS_URL is not set: run under scripts/with-services.sh";
    auto parsed = pubsub::redis::parse_redis_url(redis_test_url());
    ASSERT_TRUE(parsed.endpoint) << parsed.error;
    endpoint = *parsed.endpoint;
    raw = std::make_unique<RawRedis>(endpoint);
    ASSERT_TRUE(raw->ok()) << "cannot reach " << redis_test_url();
  }

  pubsub::redis::RedisEndpoint endpoint;
  std::unique_ptr<RawRedis> raw;
};

}  // namespace cablecast::testing
