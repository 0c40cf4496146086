#pragma once
// Latency statistics: exact percentiles over a few samples (broadcast RTTs), and a fixed-size
// log-linear histogram for millions of samples (echo round trips) that threads merge at the end.
#include <array>
#include <cstdint>
#include <vector>

namespace cablecast::bench {

struct LatencySummary {
  std::size_t count = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
};

// Nearest-rank percentiles (the value at rank ceil(p * n)), so p99 of 50 samples is the max
// but p50 is a sample that was really observed.
LatencySummary summarize(std::vector<std::int64_t> nanos);

// Values in nanoseconds, 32 sub-buckets per power of two: at most ~3% relative error, 2 KiB.
class LatencyHistogram {
 public:
  void record(std::int64_t nanos);
  void merge(const LatencyHistogram& other);
  LatencySummary summary() const;

 private:
  static constexpr int kSubBits = 5;
  static constexpr int kBuckets = 64 << kSubBits;
  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t bucket_upper(std::size_t bucket);

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace cablecast::bench
