#include "mode_support.hpp"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "clock.hpp"
#include "process_stats.hpp"

namespace cablecast::bench {

std::uint64_t ServerProbe::rss_kib() const {
  if (pid_ <= 0) return 0;
  auto rss = read_rss_kib(pid_);
  return rss ? *rss : 0;
}

double ServerProbe::cpu_seconds() const {
  if (pid_ <= 0) return 0;
  auto cpu = read_cpu_seconds(pid_);
  return cpu ? *cpu : 0;
}

Window Window::open(const ServerProbe& probe) {
  return Window{now_ns(), probe.cpu_seconds(), own_cpu_seconds()};
}

void Window::close_into(const ServerProbe& probe, ResultRow& row) const {
  row.wall_s = seconds_between(start_ns, now_ns());
  row.server_cpu_s = probe.enabled() ? probe.cpu_seconds() - server_cpu : 0;
  row.bench_cpu_s = own_cpu_seconds() - own_cpu;
}

std::string filler(unsigned bytes) { return std::string(bytes, 'x'); }

std::string command_data(std::string_view action, std::uint32_t slot, std::uint32_t seq,
                         std::int64_t sent_ns, const std::string& payload) {
  return fmt::format(R"({{"action":"{}","slot":{},"seq":{},"t":{},"payload":"{}"}})", action, slot,
                     seq, sent_ns, payload);
}

void atomic_max(std::atomic<std::int64_t>& target, std::int64_t value) {
  std::int64_t seen = target.load(std::memory_order_relaxed);
  while (seen < value && !target.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

bool record_connect(const ConnectOutcome& outcome, ResultRow& row) {
  row.connect_s = outcome.seconds;
  row.connect_rate = outcome.seconds > 0 ? outcome.subscribed / outcome.seconds : 0;
  row.failures += outcome.failed;
  if (!outcome.failures.empty()) fmt::print(stderr, "connect failures: {}\n", outcome.failures);
  if (outcome.subscribed > 0) return true;
  fmt::print(stderr, "no client could connect and subscribe: nothing to measure\n");
  return false;
}

bool emit(const CommonOptions& options, const ResultRow& row) {
  print_row(row);
  if (options.csv_path.empty()) return true;
  return append_csv(options.csv_path, row);
}

void pause_for(double seconds) {
  if (seconds <= 0) return;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

namespace {
std::atomic<bool> hold_interrupted{false};
extern "C" void interrupt_hold(int) { hold_interrupted.store(true); }
}  // namespace

void catch_stop_signals() {
  std::signal(SIGINT, interrupt_hold);
  std::signal(SIGTERM, interrupt_hold);
}

void hold(double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!hold_interrupted.load() && std::chrono::steady_clock::now() < deadline) {
    pause_for(0.05);
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

}  // namespace cablecast::bench
