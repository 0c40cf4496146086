// Connection capacity (targets T1, T2, T6): connect and subscribe N clients as fast as the
// server accepts them, read the server's RSS once idle, optionally hold the connections open
// (e.g. as extra subscribers while another process measures broadcast RTT) and check none was
// lost meanwhile.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "client_pool.hpp"
#include "clock.hpp"
#include "mode_support.hpp"
#include "modes.hpp"
#include "process_stats.hpp"

namespace cablecast::bench {
namespace {

// Idle clients only count what reaches them (broadcasts from another process's run).
class HoldRun final : public ClientObserver {
 public:
  void on_subscribed(Client&) override {}
  void on_message(Client&, const ServerFrame&) override {
    received_.fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t received() const { return received_.load(); }

 private:
  std::atomic<std::uint64_t> received_{0};
};

}  // namespace

int run_connect(const ConnectOptions& options) {
  const unsigned threads = std::max(1u, options.common.threads);
  HoldRun run;
  auto layout = ClientLayout::single_stream(options.clients, options.common.stream_id, threads);
  auto pool = ClientPool::create(options.common, std::move(layout), run);
  if (!pool) {
    fmt::print(stderr, "cannot reach {}: {}\n", options.common.url, pool.error().message());
    return 1;
  }
  const ServerProbe probe(options.common.server_pid);
  ResultRow row;
  row.label = options.common.label;
  row.mode = "connect";
  row.clients = options.clients;
  row.rss_before_kib = probe.rss_kib();
  const Window window = Window::open(probe);
  const std::uint32_t half = options.rss_midpoint ? options.clients / 2 : 0;
  std::uint64_t rss_half_kib = 0;
  if (half > 0) {
    ResultRow first_half;
    if (!record_connect((*pool)->connect(0, half), first_half)) return 1;
    pause_for(options.common.settle_s);
    rss_half_kib = probe.rss_kib();
  }
  if (!record_connect((*pool)->connect(half, options.clients), row)) return 1;
  pause_for(options.common.settle_s);
  row.rss_kib = probe.rss_kib();
  const auto subscribed = (*pool)->tally().subscribed_count();
  if (row.rss_kib > 0 && subscribed > 0) {
    row.rss_per_conn_bytes =
        (static_cast<double>(row.rss_kib) - static_cast<double>(row.rss_before_kib)) * 1024.0 /
        static_cast<double>(subscribed);
    if (rss_half_kib > 0 && subscribed > half) {
      row.rss_marginal_bytes =
          (static_cast<double>(row.rss_kib) - static_cast<double>(rss_half_kib)) * 1024.0 /
          static_cast<double>(subscribed - half);
    }
  }
  if (options.hold_s > 0) {
    catch_stop_signals();
    fmt::print("holding {} connections for {:.0f} s\n", subscribed, options.hold_s);
    std::fflush(stdout);
    hold(options.hold_s);
  }
  window.close_into(probe, row);
  row.failures = (*pool)->tally().failed_count();
  row.dropped = (*pool)->tally().dropped_count();
  row.throughput = 0;
  if (!emit(options.common, row)) return 1;
  if (options.hold_s > 0) fmt::print("  {} messages received while holding\n", run.received());
  if (auto own = read_rss_kib(getpid())) {
    fmt::print("  load generator RSS: {:.1f} MiB ({:.0f} B per client)\n",
               static_cast<double>(*own) / 1024,
               static_cast<double>(*own) * 1024 / std::max<double>(1, options.clients));
  }
  return 0;
}

}  // namespace cablecast::bench
