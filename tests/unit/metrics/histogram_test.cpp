#include <gtest/gtest.h>

#include <chrono>

#include "core/loop_metrics.hpp"

namespace cablecast::metrics {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr Buckets<3> kBounds{0.001, 0.01, 0.1};

TEST(HistogramBucketing, AnObservationEqualToABoundCountsInThatBound) {
  EXPECT_EQ(Histogram<3>::bucket_of(kBounds, 0.001), 0u);
  EXPECT_EQ(Histogram<3>::bucket_of(kBounds, 0.01), 1u);
  EXPECT_EQ(Histogram<3>::bucket_of(kBounds, 0.1), 2u);
}

TEST(HistogramBucketing, AnObservationGoesToTheFirstBoundAboveIt) {
  EXPECT_EQ(Histogram<3>::bucket_of(kBounds, 0.0), 0u);
  EXPECT_EQ(Histogram<3>::bucket_of(kBounds, 0.0011), 1u);
  EXPECT_EQ(Histogram<3>::bucket_of(kBounds, 0.05), 2u);
}

TEST(HistogramBucketing, AnObservationAboveEveryBoundGoesToTheInfiniteBucket) {
  EXPECT_EQ(Histogram<3>::bucket_of(kBounds, 0.1001), 3u);
  EXPECT_EQ(Histogram<3>::bucket_of(kBounds, 3600.0), 3u);
}

TEST(Histogram, KeepsOneCountPerBucketAndTheSumInSeconds) {
  Histogram<3> histogram{kBounds};
  histogram.observe(microseconds(500));  // bucket 0
  histogram.observe(milliseconds(1));    // bucket 0 (equal to the bound)
  histogram.observe(milliseconds(50));   // bucket 2
  histogram.observe(milliseconds(200));  // +Inf
  EXPECT_EQ(histogram.bucket_count(0), 2u);
  EXPECT_EQ(histogram.bucket_count(1), 0u);
  EXPECT_EQ(histogram.bucket_count(2), 1u);
  EXPECT_EQ(histogram.bucket_count(3), 1u);
  EXPECT_DOUBLE_EQ(histogram.sum_seconds(), 0.2515);
}

TEST(Counter, AddsWhatItIsGiven) {
  Counter counter;
  counter.add();
  counter.add(41);
  EXPECT_EQ(counter.value(), 42u);
}

TEST(Gauge, GoesUpAndDownAndCanBeSet) {
  Gauge gauge;
  gauge.add(3);
  gauge.add(-5);
  EXPECT_EQ(gauge.value(), -2);
  gauge.set(7);
  EXPECT_EQ(gauge.value(), 7);
}

}  // namespace
}  // namespace cablecast::metrics
