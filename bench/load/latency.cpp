#include "latency.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cablecast::bench {
namespace {

double to_ms(double nanos) { return nanos / 1e6; }

}  // namespace

LatencySummary summarize(std::vector<std::int64_t> nanos) {
  LatencySummary out;
  if (nanos.empty()) return out;
  std::sort(nanos.begin(), nanos.end());
  out.count = nanos.size();
  auto rank = [&](double p) {
    auto index = static_cast<std::size_t>(std::ceil(p * static_cast<double>(nanos.size())));
    return to_ms(static_cast<double>(nanos[std::clamp<std::size_t>(index, 1, nanos.size()) - 1]));
  };
  out.p50_ms = rank(0.50);
  out.p95_ms = rank(0.95);
  out.p99_ms = rank(0.99);
  out.max_ms = to_ms(static_cast<double>(nanos.back()));
  double sum = 0;
  for (auto v : nanos) sum += static_cast<double>(v);
  out.mean_ms = to_ms(sum / static_cast<double>(nanos.size()));
  return out;
}

// Values below 2^kSubBits get one bucket each; above, a power of two [2^e, 2^(e+1)) is split
// into 2^kSubBits equal buckets.
std::size_t LatencyHistogram::bucket_of(std::uint64_t value) {
  if (value < (1u << kSubBits)) return static_cast<std::size_t>(value);
  const int exponent = 63 - std::countl_zero(value);  // >= kSubBits
  const int shift = exponent - kSubBits;
  const std::uint64_t sub = (value >> shift) & ((1u << kSubBits) - 1);
  return static_cast<std::size_t>((shift + 1) << kSubBits) + static_cast<std::size_t>(sub);
}

std::uint64_t LatencyHistogram::bucket_upper(std::size_t bucket) {
  if (bucket < (1u << kSubBits)) return bucket;
  const int shift = static_cast<int>(bucket >> kSubBits) - 1;
  const std::uint64_t sub = bucket & ((1u << kSubBits) - 1);
  return (((std::uint64_t{1} << kSubBits) | sub) << shift) + ((std::uint64_t{1} << shift) - 1);
}

void LatencyHistogram::record(std::int64_t nanos) {
  const auto value = static_cast<std::uint64_t>(std::max<std::int64_t>(nanos, 0));
  ++counts_[std::min<std::size_t>(bucket_of(value), kBuckets - 1)];
  ++total_;
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

LatencySummary LatencyHistogram::summary() const {
  LatencySummary out;
  if (total_ == 0) return out;
  out.count = total_;
  auto rank = [&](double p) {
    auto wanted = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(total_)));
    wanted = std::max<std::uint64_t>(wanted, 1);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= wanted) return to_ms(static_cast<double>(std::min(bucket_upper(i), max_)));
    }
    return to_ms(static_cast<double>(max_));
  };
  out.p50_ms = rank(0.50);
  out.p95_ms = rank(0.95);
  out.p99_ms = rank(0.99);
  out.max_ms = to_ms(static_cast<double>(max_));
  out.mean_ms = to_ms(sum_ / static_cast<double>(total_));
  return out;
}

}  // namespace cablecast::bench
