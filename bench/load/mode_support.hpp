#pragma once
// Small pieces every mode uses: reading the server process, building command payloads,
// recording the connect phase and the CPU/wall window into a result row.
#include <atomic>
#include <cstdint>
#include <string>

#include "client_pool.hpp"
#include "report.hpp"

namespace cablecast::bench {

// The server process as /proc shows it; every read is 0 when no PID was given or it is gone.
class ServerProbe {
 public:
  explicit ServerProbe(int pid) : pid_(pid) {}
  std::uint64_t rss_kib() const;
  double cpu_seconds() const;
  bool enabled() const { return pid_ > 0; }

 private:
  int pid_;
};

// A window over which CPU time (server and generator) and wall time are measured.
struct Window {
  std::int64_t start_ns = 0;
  double server_cpu = 0;
  double own_cpu = 0;
  static Window open(const ServerProbe& probe);
  // Fills wall_s, server_cpu_s, bench_cpu_s of `row` with what was spent since open().
  void close_into(const ServerProbe& probe, ResultRow& row) const;
};

// `bytes` of 'x', the "payload" value of a command (JSON-safe as is).
std::string filler(unsigned bytes);

// The data object of a benchmark command, as JSON text.
std::string command_data(std::string_view action, std::uint32_t slot, std::uint32_t seq,
                         std::int64_t sent_ns, const std::string& payload);

void atomic_max(std::atomic<std::int64_t>& target, std::int64_t value);

// Connect time, rate and failures of one connect phase. False (with the reasons on stderr)
// when no client got subscribed: there is nothing to measure, and the mode must fail rather
// than report figures of nobody.
[[nodiscard]] bool record_connect(const ConnectOutcome& outcome, ResultRow& row);

// Prints `row` and appends it to the CSV file when one was asked for; false if that failed.
bool emit(const CommonOptions& options, const ResultRow& row);

// Sleeps for `seconds` (fractions allowed).
void pause_for(double seconds);

// Holding connections open for another process's measurement: SIGINT/SIGTERM end a hold
// early (a driver script stops the holders once its measurement is done) and the report is
// still printed. Call catch_stop_signals() before printing the line the driver waits for, so a
// driver that signals as soon as it reads that line never kills the process instead.
void catch_stop_signals();
// Waits `seconds` or until a stop signal, then restores the default handlers.
void hold(double seconds);

}  // namespace cablecast::bench
