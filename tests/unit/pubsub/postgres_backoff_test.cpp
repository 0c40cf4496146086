#include <gtest/gtest.h>

#include "pubsub/postgres/reconnect_backoff.hpp"

namespace cablecast::pubsub::postgres {
namespace {

using std::chrono::milliseconds;

TEST(PostgresReconnectBackoff, DoublesFrom100msAndCapsAt5s) {
  ReconnectBackoff backoff;
  std::vector<long> delays;
  for (int i = 0; i < 9; ++i) delays.push_back(backoff.next().count());
  EXPECT_EQ(delays, (std::vector<long>{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}));
}

TEST(PostgresReconnectBackoff, ResetStartsOverAfterASuccess) {
  ReconnectBackoff backoff;
  backoff.next();
  backoff.next();
  backoff.reset();
  EXPECT_EQ(backoff.next(), milliseconds(100));
}

}  // namespace
}  // namespace cablecast::pubsub::postgres
