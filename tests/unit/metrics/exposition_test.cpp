#include "metrics/exposition.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace cablecast::metrics {
namespace {

TEST(Exposition, WritesHelpAndTypeBeforeTheSamples) {
  Exposition out;
  out.family("cablecast_connections", "gauge", "Open WebSocket connections.");
  out.sample("cablecast_connections", {}, std::uint64_t{3});
  EXPECT_EQ(out.text(),
            "# HELP cablecast_connections Open WebSocket connections.\n"
            "# TYPE cablecast_connections gauge\n"
            "cablecast_connections 3\n");
}

TEST(Exposition, WritesLabelsInTheOrderGiven) {
  Exposition out;
  out.sample("calls_total", {{"method", "connect"}, {"outcome", "success"}}, std::uint64_t{7});
  EXPECT_EQ(out.text(), "calls_total{method=\"connect\",outcome=\"success\"} 7\n");
}

TEST(Exposition, EscapesBackslashQuoteAndNewlineInLabelValues) {
  Exposition out;
  out.sample("m", {{"l", "a\\b\"c\nd"}}, std::uint64_t{1});
  EXPECT_EQ(out.text(), "m{l=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(Exposition, EscapesBackslashAndNewlineInHelpButNotQuotes) {
  Exposition out;
  out.family("m", "counter", "say \"hi\"\\\nbye");
  EXPECT_EQ(out.text(), "# HELP m say \"hi\"\\\\\\nbye\n# TYPE m counter\n");
}

TEST(Exposition, WritesNegativeGaugesAndFractions) {
  Exposition out;
  out.sample("g", {}, std::int64_t{-2});
  out.sample("seconds", {}, 0.25);
  EXPECT_EQ(out.text(), "g -2\nseconds 0.25\n");
}

TEST(Exposition, WritesAHistogramWithCumulativeBucketsSumAndCount) {
  constexpr std::array<double, 2> bounds{0.001, 0.5};
  const std::array<std::uint64_t, 3> counts{2, 0, 1};  // per bucket, the last above 0.5
  Exposition out;
  out.histogram("lat_seconds", {{"method", "command"}}, HistogramCounts{bounds, counts, 1.5});
  EXPECT_EQ(out.text(),
            "lat_seconds_bucket{method=\"command\",le=\"0.001\"} 2\n"
            "lat_seconds_bucket{method=\"command\",le=\"0.5\"} 2\n"
            "lat_seconds_bucket{method=\"command\",le=\"+Inf\"} 3\n"
            "lat_seconds_sum{method=\"command\"} 1.5\n"
            "lat_seconds_count{method=\"command\"} 3\n");
}

TEST(Exposition, WritesAnUnlabelledHistogramWithOnlyLe) {
  constexpr std::array<double, 1> bounds{1.0};
  const std::array<std::uint64_t, 2> counts{0, 0};
  Exposition out;
  out.histogram("h", {}, HistogramCounts{bounds, counts, 0});
  EXPECT_EQ(out.text(), "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

}  // namespace
}  // namespace cablecast::metrics
