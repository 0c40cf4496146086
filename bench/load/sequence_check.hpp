#pragma once
// Per-connection delivery check (target T7): every message of a sequence arrives exactly once
// and in order. Sequence numbers start at `first`; a 64-message window remembers which of the
// latest numbers arrived, so a late arrival is told apart from a duplicate. 24 bytes.
#include <atomic>
#include <bit>
#include <cstdint>

namespace cablecast::bench {

class SequenceCheck {
 public:
  enum class Verdict { in_order, late, duplicate };

  // Expect `first` next; numbers below it were before this connection's time.
  void start(std::uint32_t first) {
    first_ = next_ = first;
    window_ = ~std::uint64_t{0};
    lost_ = 0;
  }

  Verdict observe(std::uint32_t seq) {
    if (seq >= next_) {
      const std::uint64_t shift = std::uint64_t{seq} - next_ + 1;
      if (shift >= 64) {
        // The whole window leaves, plus the gap numbers that never entered it.
        lost_ += static_cast<std::uint32_t>(64 - std::popcount(window_) + (shift - 64));
        window_ = 1;
      } else {
        const std::uint64_t leaving = window_ >> (64 - shift);
        lost_ += static_cast<std::uint32_t>(shift - std::popcount(leaving));
        window_ = (window_ << shift) | 1;
      }
      next_ = seq + 1;
      return Verdict::in_order;
    }
    const std::uint32_t distance = next_ - 1 - seq;
    if (distance >= 64) return Verdict::late;  // already counted lost when it left the window
    const std::uint64_t bit = std::uint64_t{1} << distance;
    if (window_ & bit) return Verdict::duplicate;
    window_ |= bit;
    return Verdict::late;
  }

  // The number after the highest one seen (or `first` when none arrived yet).
  std::uint32_t next() const { return next_; }

  // How many of [first, end) never arrived (gaps plus the tail), given `end` were sent.
  std::uint64_t missing(std::uint32_t end) const {
    std::uint64_t missing = lost_;
    const std::uint32_t span = next_ - first_;
    const std::uint64_t valid = span < 64 ? ((std::uint64_t{1} << span) - 1) : ~std::uint64_t{0};
    missing += static_cast<std::uint64_t>(std::popcount(valid & ~window_));
    if (end > next_) missing += end - next_;
    return missing;
  }

 private:
  std::uint32_t first_ = 0;
  std::uint32_t next_ = 0;
  std::uint32_t lost_ = 0;
  std::uint64_t window_ = ~std::uint64_t{0};
};

// What SequenceCheck said, counted over every connection of a run (any loop thread).
struct OrderTally {
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> reordered{0};

  // Counts `verdict`; false for a duplicate, which the caller must not count as a delivery.
  bool record(SequenceCheck::Verdict verdict) {
    switch (verdict) {
      case SequenceCheck::Verdict::duplicate:
        duplicates.fetch_add(1, std::memory_order_relaxed);
        return false;
      case SequenceCheck::Verdict::late:
        reordered.fetch_add(1, std::memory_order_relaxed);
        return true;
      case SequenceCheck::Verdict::in_order:
        return true;
    }
    return true;
  }
};

}  // namespace cablecast::bench
