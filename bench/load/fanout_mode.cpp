// Fan-out throughput: S streams with C subscribers each; every stream has its own sender (its
// first client) keeping `in_flight` broadcasts outstanding, all streams at once. A broadcast
// counts as done when all C subscribers have it, which lets the next one go (so the server is
// never flooded beyond what it delivers). Reports deliveries per second and per server
// CPU-second (target T5).
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

// A stream's sending state. Every client of a stream lives on the same loop, so this is only
// ever touched by that loop's thread.
struct StreamState {
  std::uint32_t next_seq = 0;
  std::uint32_t subscribers = 0;
  std::uint32_t in_flight = 0;
  std::vector<std::uint32_t> receipts;  // [seq % window]: subscribers that got it
};

class FanoutRun final : public ClientObserver {
 public:
  FanoutRun(const FanoutOptions& options, unsigned workers)
      : options_(options),
        window_(std::max(1u, options.in_flight)),
        streams_(options.streams),
        checks_(static_cast<std::size_t>(options.streams) * options.clients_per_stream),
        histograms_(workers),
        payload_(filler(options.payload_bytes)) {
    for (auto& s : streams_) s.receipts.assign(window_, 0);
  }

  void attach(ClientPool& pool) { pool_ = &pool; }

  void on_subscribed(Client& client) override {
    checks_[client.index()].start(0);
    ++streams_[client.stream()].subscribers;
  }

  void on_message(Client& client, const ServerFrame& frame) override {
    if (frame.action != "broadcast" || frame.seq < 0) return;
    const auto seq = static_cast<std::uint32_t>(frame.seq);
    if (!order_.record(checks_[client.index()].observe(seq))) return;
    deliveries_.fetch_add(1, std::memory_order_relaxed);
    if (measuring_.load(std::memory_order_relaxed)) {
      histograms_[pool_->worker_index(client.index())].record(now_ns() - frame.sent_ns);
    }
    StreamState& stream = streams_[client.stream()];
    std::uint32_t& receipts = stream.receipts[seq % window_];
    if (++receipts < stream.subscribers) return;
    receipts = 0;
    --stream.in_flight;
    in_flight_total_.fetch_sub(1, std::memory_order_relaxed);
    if (running_.load(std::memory_order_relaxed)) send(client.stream());
  }

  // On the stream's loop.
  void send(std::uint32_t stream_index) {
    StreamState& stream = streams_[stream_index];
    Client& sender = pool_->client(stream_index * options_.clients_per_stream);
    if (sender.state() != Client::State::subscribed || stream.subscribers == 0) return;
    ++stream.in_flight;
    in_flight_total_.fetch_add(1, std::memory_order_relaxed);
    sender.perform(command_data("broadcast", stream_index, stream.next_seq++, now_ns(), payload_));
  }

  void start_all() {
    running_.store(true);
    for (std::uint32_t s = 0; s < options_.streams; ++s) {
      pool_->post(s * options_.clients_per_stream, [this, s](Client&) {
        for (unsigned k = 0; k < window_; ++k) send(s);
      });
    }
  }

  std::uint64_t missing() {
    std::atomic<std::uint64_t> missing{0};
    pool_->on_each_worker([&](Worker& worker) {
      std::uint64_t local = 0;
      for (std::uint32_t i = 0; i < pool_->size(); ++i) {
        if (pool_->worker_index(i) != worker.index()) continue;
        if (pool_->client(i).state() != Client::State::subscribed) continue;
        local += checks_[i].missing(streams_[pool_->client(i).stream()].next_seq);
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

  std::atomic<bool> running_{false};
  std::atomic<bool> measuring_{false};
  std::atomic<std::uint64_t> deliveries_{0};
  std::atomic<std::int64_t> in_flight_total_{0};
  OrderTally order_;

 private:
  const FanoutOptions& options_;
  const unsigned window_;
  ClientPool* pool_ = nullptr;
  std::vector<StreamState> streams_;
  std::vector<SequenceCheck> checks_;
  std::vector<LatencyHistogram> histograms_;
  const std::string payload_;
};

}  // namespace

int run_fanout(const FanoutOptions& options) {
  const unsigned threads = std::max(1u, options.common.threads);
  const std::uint32_t clients = options.streams * options.clients_per_stream;
  FanoutRun run(options, threads);
  ClientLayout layout;
  layout.clients = clients;
  for (std::uint32_t s = 0; s < options.streams; ++s) {
    layout.stream_ids.push_back(options.common.stream_id + "-" + std::to_string(s));
  }
  const std::uint32_t per_stream = options.clients_per_stream;
  layout.stream_of = [per_stream](std::uint32_t i) { return i / per_stream; };
  // A stream's clients share a loop: its completion count needs no atomics.
  layout.worker_of = [per_stream, threads](std::uint32_t i) { return (i / per_stream) % threads; };
  auto pool = ClientPool::create(options.common, std::move(layout), run);
  if (!pool) {
    fmt::print(stderr, "cannot reach {}: {}\n", options.common.url, pool.error().message());
    return 1;
  }
  run.attach(**pool);
  const ServerProbe probe(options.common.server_pid);
  ResultRow row;
  row.label = options.common.label;
  row.mode = "fanout";
  row.clients = clients;
  row.streams = options.streams;
  row.payload_bytes = options.payload_bytes;
  row.rss_before_kib = probe.rss_kib();
  if (!record_connect((*pool)->connect(0, clients), row)) return 1;
  pause_for(options.common.settle_s);
  row.rss_kib = probe.rss_kib();
  if (row.rss_kib > 0 && clients > 0) {
    row.rss_per_conn_bytes =
        (static_cast<double>(row.rss_kib) - static_cast<double>(row.rss_before_kib)) * 1024.0 /
        static_cast<double>(clients);
  }

  run.start_all();
  pause_for(options.warmup_s);
  run.measuring_.store(true);
  const Window window = Window::open(probe);
  const std::uint64_t before = run.deliveries_.load();
  pause_for(options.duration_s);
  const std::uint64_t after = run.deliveries_.load();
  window.close_into(probe, row);
  run.measuring_.store(false);
  run.running_.store(false);

  const std::int64_t deadline = now_ns() + 30'000'000'000;
  while (run.in_flight_total_.load() > 0 && now_ns() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::uint64_t deliveries = after - before;
  row.throughput = static_cast<double>(deliveries) / row.wall_s;
  if (row.server_cpu_s > 0) row.deliveries_per_server_cpu_s = deliveries / row.server_cpu_s;
  row.latency = run.latency();
  row.missing = run.missing();
  row.duplicates = run.order_.duplicates.load();
  row.reordered = run.order_.reordered.load();
  row.failures = (*pool)->tally().failed_count();
  row.dropped = (*pool)->tally().dropped_count();
  if (run.in_flight_total_.load() > 0) {
    fmt::print(stderr, "{} broadcasts still incomplete after the drain\n",
               run.in_flight_total_.load());
  }
  if (!emit(options.common, row)) return 1;
  return row.missing > 0 || row.duplicates > 0 ? 2 : 0;
}

}  // namespace cablecast::bench
