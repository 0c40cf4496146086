#pragma once
// Writes Prometheus' text exposition format 0.0.4: for each metric family a HELP and a TYPE
// line, then its samples. Label values and help text are escaped as the format requires.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace cablecast::metrics {

inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

using Label = std::pair<std::string_view, std::string_view>;

// A histogram summed over the loops: per-bucket counts (not cumulative), the last one above
// every bound, and the sum of the observations in seconds.
struct HistogramCounts {
  std::span<const double> bounds;
  std::span<const std::uint64_t> counts;  // bounds.size() + 1
  double sum_seconds = 0;
};

class Exposition {
 public:
  // Starts a family; `type` is "counter", "gauge" or "histogram".
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, std::int64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);
  // The _bucket (cumulative, "le" last among the labels), _sum and _count samples of `name`.
  void histogram(std::string_view name, std::initializer_list<Label> labels,
                 const HistogramCounts& histogram);

  const std::string& text() const { return text_; }
  std::string take() { return std::move(text_); }

 private:
  void begin_sample(std::string_view name, std::initializer_list<Label> labels,
                    const Label* extra = nullptr);

  std::string text_;
};

}  // namespace cablecast::metrics
