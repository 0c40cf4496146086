#include "report.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace cablecast::bench {

namespace {
constexpr const char* kHeader =
    "label,mode,clients,streams,payload_bytes,connect_s,connect_rate,failures,dropped,"
    "rss_before_kib,rss_kib,rss_per_conn_bytes,samples,p50_ms,p95_ms,p99_ms,max_ms,mean_ms,"
    "timeouts,missing,duplicates,reordered,throughput_per_s,server_cpu_s,"
    "deliveries_per_server_cpu_s,bench_cpu_s,wall_s,rss_marginal_bytes";
}  // namespace

void print_row(const ResultRow& r) {
  fmt::print("[{}] {} clients={} streams={} payload={}B\n", r.label, r.mode, r.clients, r.streams,
             r.payload_bytes);
  fmt::print("  connect: {:.2f} s ({:.0f}/s), failures {}, dropped {}\n", r.connect_s,
             r.connect_rate, r.failures, r.dropped);
  if (r.rss_kib > 0) {
    fmt::print(
        "  server RSS: {:.1f} MiB idle (before connecting {:.1f} MiB) = {:.0f} B/connection\n",
        static_cast<double>(r.rss_kib) / 1024, static_cast<double>(r.rss_before_kib) / 1024,
        r.rss_per_conn_bytes);
    if (r.rss_marginal_bytes > 0) {
      fmt::print("  server RSS growth per connection over the second half: {:.0f} B\n",
                 r.rss_marginal_bytes);
    }
  }
  if (r.latency.count > 0) {
    fmt::print(
        "  latency over {} samples: p50 {:.2f} ms, p95 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms"
        " (mean {:.2f}), timeouts {}\n",
        r.latency.count, r.latency.p50_ms, r.latency.p95_ms, r.latency.p99_ms, r.latency.max_ms,
        r.latency.mean_ms, r.timeouts);
  }
  fmt::print("  delivery: missing {}, duplicates {}, out of order {}\n", r.missing, r.duplicates,
             r.reordered);
  if (r.throughput > 0) fmt::print("  throughput: {:.0f}/s\n", r.throughput);
  if (r.server_cpu_s > 0) {
    fmt::print("  server CPU: {:.2f} s = {:.0f} deliveries per CPU-second\n", r.server_cpu_s,
               r.deliveries_per_server_cpu_s);
  }
  fmt::print("  load generator CPU: {:.2f} s over {:.2f} s wall\n", r.bench_cpu_s, r.wall_s);
  std::fflush(stdout);
}

bool append_csv(const std::string& path, const ResultRow& r) {
  std::error_code ec;
  const bool fresh =
      !std::filesystem::exists(path, ec) || std::filesystem::file_size(path, ec) == 0;
  std::ofstream out(path, std::ios::app);
  if (!out) {
    fmt::print(stderr, "cannot append to {}: {}\n", path, std::strerror(errno));
    return false;
  }
  if (fresh) out << kHeader << '\n';
  out << fmt::format(
      "{},{},{},{},{},{:.3f},{:.1f},{},{},{},{},{:.0f},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{},{},"
      "{},"
      "{},{:.1f},{:.3f},{:.0f},{:.3f},{:.3f},{:.0f}\n",
      r.label, r.mode, r.clients, r.streams, r.payload_bytes, r.connect_s, r.connect_rate,
      r.failures, r.dropped, r.rss_before_kib, r.rss_kib, r.rss_per_conn_bytes, r.latency.count,
      r.latency.p50_ms, r.latency.p95_ms, r.latency.p99_ms, r.latency.max_ms, r.latency.mean_ms,
      r.timeouts, r.missing, r.duplicates, r.reordered, r.throughput, r.server_cpu_s,
      r.deliveries_per_server_cpu_s, r.bench_cpu_s, r.wall_s, r.rss_marginal_bytes);
  return static_cast<bool>(out);
}

}  // namespace cablecast::bench
