#include "metrics/exposition.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "core/assert.hpp"

namespace cablecast::metrics {

namespace {

// Label values: backslash, double quote and line feed are escaped; HELP: backslash and line feed.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// Go's ParseFloat reads what fmt's shortest round-trip form writes; the infinities and NaN have
// the spellings the format names.
void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
}

}  // namespace

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  CABLE_ASSERT(type == "counter" || type == "gauge" || type == "histogram");
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  append_escaped(text_, help, /*quote=*/false);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void Exposition::begin_sample(std::string_view name, std::initializer_list<Label> labels,
                              const Label* extra) {
  text_ += name;
  if (labels.size() == 0 && !extra) {
    text_ += ' ';
    return;
  }
  char separator = '{';
  auto append_label = [&](const Label& label) {
    text_ += separator;
    text_ += label.first;
    text_ += "=\"";
    append_escaped(text_, label.second, /*quote=*/true);
    text_ += '"';
    separator = ',';
  };
  for (const Label& label : labels) append_label(label);
  if (extra) append_label(*extra);
  text_ += "} ";
}

void Exposition::sample(std::string_view name, std::initializer_list<Label> labels,
                        std::uint64_t value) {
  begin_sample(name, labels);
  fmt::format_to(std::back_inserter(text_), "{}\n", value);
}

void Exposition::sample(std::string_view name, std::initializer_list<Label> labels,
                        std::int64_t value) {
  begin_sample(name, labels);
  fmt::format_to(std::back_inserter(text_), "{}\n", value);
}

void Exposition::sample(std::string_view name, std::initializer_list<Label> labels, double value) {
  begin_sample(name, labels);
  append_value(text_, value);
  text_ += '\n';
}

void Exposition::histogram(std::string_view name, std::initializer_list<Label> labels,
                           const HistogramCounts& histogram) {
  CABLE_ASSERT(histogram.counts.size() == histogram.bounds.size() + 1);
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  std::string bound;
  for (std::size_t i = 0; i <= histogram.bounds.size(); ++i) {
    cumulative += histogram.counts[i];
    bound.clear();
    append_value(bound, i < histogram.bounds.size() ? histogram.bounds[i]
                                                    : std::numeric_limits<double>::infinity());
    const Label le{"le", bound};
    begin_sample(bucket, labels, &le);
    fmt::format_to(std::back_inserter(text_), "{}\n", cumulative);
  }
  sample(std::string(name) + "_sum", labels, histogram.sum_seconds);
  sample(std::string(name) + "_count", labels, cumulative);
}

}  // namespace cablecast::metrics
