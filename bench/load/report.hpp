#pragma once
// One result row: printed for humans and appended to a CSV file (one schema for every mode, so
// compare.sh can put all runs of both servers in one table and plot).
#include <cstdint>
#include <string>

#include "latency.hpp"

namespace cablecast::bench {

struct ResultRow {
  std::string label;  // which server
  std::string mode;   // broadcast, echo, fanout, connect
  std::uint32_t clients = 0;
  std::uint32_t streams = 1;
  unsigned payload_bytes = 0;
  // Connecting.
  double connect_s = 0;
  double connect_rate = 0;     // subscribed clients per second
  std::uint64_t failures = 0;  // clients that never got subscribed
  std::uint64_t dropped = 0;   // connections lost after subscribing
  // Server memory (0 when no --server-pid).
  std::uint64_t rss_before_kib = 0;
  std::uint64_t rss_kib = 0;  // idle, with `clients` subscribed connections
  double rss_per_conn_bytes = 0;
  double rss_marginal_bytes = 0;  // connect --rss-midpoint: growth per connection, second half
  // Latency: broadcast RTT (time until every client got it) or echo round trip.
  LatencySummary latency;
  std::uint64_t timeouts = 0;
  // Delivery checks (T7).
  std::uint64_t missing = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  // Throughput: messages/s (echo), deliveries/s (fanout, broadcast).
  double throughput = 0;
  double server_cpu_s = 0;
  double deliveries_per_server_cpu_s = 0;
  double bench_cpu_s = 0;  // the load generator's own CPU over the same window
  double wall_s = 0;
};

// Human-readable, several lines.
void print_row(const ResultRow& row);
// Appends one line to `path`, writing the header first when the file is new or empty.
// Returns false (and says why on stderr) when the file cannot be written.
bool append_csv(const std::string& path, const ResultRow& row);

}  // namespace cablecast::bench
