// Echo throughput: every client keeps `in_flight` "echo" actions outstanding on its own
// subscription; each reply sends the next request. Messages per second over a fixed window,
// plus the round-trip distribution.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "client_pool.hpp"
#include "clock.hpp"
#include "mode_support.hpp"
#include "modes.hpp"
#include "sequence_check.hpp"

namespace cablecast::bench {
namespace {

class EchoRun final : public ClientObserver {
 public:
  EchoRun(const EchoOptions& options, unsigned workers)
      : options_(options),
        checks_(options.clients),
        next_seq_(options.clients, 0),
        histograms_(workers),
        payload_(filler(options.payload_bytes)) {}

  void attach(ClientPool& pool) { pool_ = &pool; }

  void on_subscribed(Client& client) override { checks_[client.index()].start(0); }

  void on_message(Client& client, const ServerFrame& frame) override {
    if (frame.action != "echo" || frame.seq < 0) return;
    if (!order_.record(checks_[client.index()].observe(static_cast<std::uint32_t>(frame.seq))))
      return;
    received_.fetch_add(1, std::memory_order_relaxed);
    if (measuring_.load(std::memory_order_relaxed)) {
      histograms_[pool_->worker_index(client.index())].record(now_ns() - frame.sent_ns);
    }
    if (running_.load(std::memory_order_relaxed)) send(client);
  }

  // On the client's loop.
  void send(Client& client) {
    const std::uint32_t seq = next_seq_[client.index()]++;
    sent_.fetch_add(1, std::memory_order_relaxed);
    client.perform(command_data("echo", 0, seq, now_ns(), payload_));
  }

  std::atomic<bool> running_{false};
  std::atomic<bool> measuring_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> received_{0};
  OrderTally order_;

  std::uint64_t missing(ClientPool& pool) {
    std::atomic<std::uint64_t> missing{0};
    pool.on_each_worker([&](Worker& worker) {
      std::uint64_t local = 0;
      for (std::uint32_t i = 0; i < pool.size(); ++i) {
        if (pool.worker_index(i) != worker.index()) continue;
        if (pool.client(i).state() != Client::State::subscribed) continue;
        local += checks_[i].missing(next_seq_[i]);
      }
      missing.fetch_add(local);
    });
    return missing.load();
  }

  LatencySummary latency() const {
    LatencyHistogram all;
    for (const auto& h : histograms_) all.merge(h);
    return all.summary();
  }

 private:
  const EchoOptions& options_;
  ClientPool* pool_ = nullptr;
  std::vector<SequenceCheck> checks_;         // per client, on its loop
  std::vector<std::uint32_t> next_seq_;       // per client, on its loop
  std::vector<LatencyHistogram> histograms_;  // per loop
  const std::string payload_;
};

}  // namespace

int run_echo(const EchoOptions& options) {
  const unsigned threads = std::max(1u, options.common.threads);
  EchoRun run(options, threads);
  auto layout = ClientLayout::single_stream(options.clients, options.common.stream_id, threads);
  auto pool = ClientPool::create(options.common, std::move(layout), run);
  if (!pool) {
    fmt::print(stderr, "cannot reach {}: {}\n", options.common.url, pool.error().message());
    return 1;
  }
  run.attach(**pool);
  const ServerProbe probe(options.common.server_pid);
  ResultRow row;
  row.label = options.common.label;
  row.mode = "echo";
  row.clients = options.clients;
  row.payload_bytes = options.payload_bytes;
  row.rss_before_kib = probe.rss_kib();
  if (!record_connect((*pool)->connect(0, options.clients), row)) return 1;

  run.running_.store(true);
  for (std::uint32_t i = 0; i < options.clients; ++i) {
    (*pool)->post(i, [&run, n = options.in_flight](Client& c) {
      if (c.state() != Client::State::subscribed) return;
      for (unsigned k = 0; k < n; ++k) run.send(c);
    });
  }
  pause_for(options.warmup_s);
  run.measuring_.store(true);
  const Window window = Window::open(probe);
  const std::uint64_t received_before = run.received_.load();
  pause_for(options.duration_s);
  const std::uint64_t received_after = run.received_.load();
  window.close_into(probe, row);
  run.measuring_.store(false);
  run.running_.store(false);
  row.rss_kib = probe.rss_kib();

  // Drain: every request sent must come back.
  const std::int64_t deadline = now_ns() + 30'000'000'000;
  while (run.received_.load() + run.order_.duplicates.load() < run.sent_.load() &&
         now_ns() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::uint64_t messages = received_after - received_before;
  row.throughput = static_cast<double>(messages) / row.wall_s;
  if (row.server_cpu_s > 0) row.deliveries_per_server_cpu_s = messages / row.server_cpu_s;
  row.latency = run.latency();
  row.missing = run.missing(**pool);
  row.duplicates = run.order_.duplicates.load();
  row.reordered = run.order_.reordered.load();
  row.failures = (*pool)->tally().failed_count();
  row.dropped = (*pool)->tally().dropped_count();
  if (!emit(options.common, row)) return 1;
  return row.missing > 0 || row.duplicates > 0 ? 2 : 0;
}

}  // namespace cablecast::bench
