#pragma once
// The process metrics every Prometheus client library exports, under their standard names
// (process_cpu_seconds_total, process_resident_memory_bytes, ...), read from /proc.
#include <boost/system/result.hpp>
#include <optional>
#include <string_view>

#include "metrics/exposition.hpp"

namespace cablecast::metrics {

struct ProcessMetrics {
  double cpu_seconds = 0;         // user + system
  double resident_bytes = 0;      // RSS
  double virtual_bytes = 0;       // VSZ
  double open_fds = 0;            // entries of /proc/self/fd
  double max_fds = 0;             // RLIMIT_NOFILE (soft)
  double start_time_seconds = 0;  // since the Unix epoch
};

// Parses /proc/<pid>/stat's text (fields after the parenthesised command name, which may hold
// spaces and parentheses): utime, stime, starttime in clock ticks, vsize in bytes, rss in pages.
// `boot_time_seconds` is /proc/stat's btime.
boost::system::result<ProcessMetrics> parse_proc_stat(std::string_view stat,
                                                      double ticks_per_second, double page_size,
                                                      double boot_time_seconds);

// This process, now. An error when /proc cannot be read (not Linux, or /proc not mounted).
boost::system::result<ProcessMetrics> read_process_metrics();

void write_process_metrics(Exposition& out, const ProcessMetrics& process);

}  // namespace cablecast::metrics
