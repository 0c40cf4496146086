#include "pubsub/reconnect_backoff.hpp"

#include <gtest/gtest.h>

namespace cablecast::pubsub {
namespace {

using std::chrono::milliseconds;

TEST(ReconnectBackoff, DoublesFrom100msAndCapsAt5s) {
  ReconnectBackoff backoff;
  std::vector<long> delays;
  for (int i = 0; i < 9; ++i) delays.push_back(backoff.next().count());
  EXPECT_EQ(delays, (std::vector<long>{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}));
}

TEST(ReconnectBackoff, ResetStartsOverAfterASuccess) {
  ReconnectBackoff backoff;
  backoff.next();
  backoff.next();
  backoff.reset();
  EXPECT_EQ(backoff.next(), milliseconds(100));
}

TEST(ReconnectBackoff, TheRedisClientsTuningSetsTheFirstDelayAndTheCap) {
  ReconnectBackoff backoff(milliseconds(300), milliseconds(1000));
  EXPECT_EQ(backoff.upcoming(), milliseconds(300));
  std::vector<long> delays;
  for (int i = 0; i < 4; ++i) delays.push_back(backoff.next().count());
  EXPECT_EQ(delays, (std::vector<long>{300, 600, 1000, 1000}));
  backoff.reset();
  EXPECT_EQ(backoff.next(), milliseconds(300));
}

}  // namespace
}  // namespace cablecast::pubsub
