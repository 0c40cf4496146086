// Broadcast RTT, the websocket-shootout / AnyCable methodology: every client subscribes to the
// same BenchmarkChannel stream; a sender (one of the clients) performs "broadcast" carrying a
// sequence number and its send time; the sample's RTT is the time until the LAST client has it.
// Clients are added in steps and each step takes its own samples.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client_pool.hpp"
#include "clock.hpp"
#include "mode_support.hpp"
#include "modes.hpp"
#include "sequence_check.hpp"

namespace cablecast::bench {
namespace {

// One concurrent sender's current broadcast.
struct Slot {
  std::atomic<std::uint32_t> seq{0};            // the broadcast being measured
  std::atomic<std::uint32_t> received{0};       // clients that got it
  std::atomic<std::int64_t> last_latency{0};    // largest receive - send time so far
  std::atomic<bool> sender_unavailable{false};  // the chosen sender was not subscribed
};

class BroadcastRun final : public ClientObserver {
 public:
  BroadcastRun(const BroadcastOptions& options, std::uint32_t clients)
      : options_(options),
        senders_(std::max(1u, options.senders)),
        slots_(senders_),
        checks_(static_cast<std::size_t>(clients) * senders_),
        payload_(filler(options.payload_bytes)) {}

  void on_subscribed(Client& client) override {
    // No broadcast is in flight while clients connect: the next one is the first it must see.
    const auto next = sent_.load(std::memory_order_acquire);
    for (unsigned s = 0; s < senders_; ++s) check(client.index(), s).start(next);
  }

  void on_message(Client& client, const ServerFrame& frame) override {
    if (frame.action != "broadcast") return;  // the sender's own "broadcastResult"
    if (frame.slot < 0 || frame.slot >= static_cast<std::int64_t>(senders_) || frame.seq < 0) {
      foreign_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const auto slot = static_cast<unsigned>(frame.slot);
    const auto seq = static_cast<std::uint32_t>(frame.seq);
    if (!order_.record(check(client.index(), slot).observe(seq))) return;
    Slot& current = slots_[slot];
    if (seq != current.seq.load(std::memory_order_acquire)) {
      stale_.fetch_add(1, std::memory_order_relaxed);  // a straggler of a timed-out sample
      return;
    }
    atomic_max(current.last_latency, now_ns() - frame.sent_ns);
    current.received.fetch_add(1, std::memory_order_acq_rel);
  }

  // Takes the step's samples with `alive` subscribed clients (indices below `connected`).
  void sample(ClientPool& pool, std::uint32_t connected, ResultRow& row) {
    std::vector<std::int64_t> rtts;
    const std::int64_t started = now_ns();
    const auto timeout_ns = static_cast<std::int64_t>(options_.sample_timeout_s * 1e9);
    std::uint64_t deliveries = 0;
    for (unsigned k = 0; k < options_.samples; ++k) {
      const double elapsed = seconds_between(started, now_ns());
      if (options_.step_budget_s > 0 && elapsed > options_.step_budget_s &&
          k >= options_.min_samples) {
        break;
      }
      const auto& tally = pool.tally();
      const auto alive =
          static_cast<std::uint32_t>(tally.subscribed_count() - tally.dropped_count());
      const std::uint32_t seq = sent_.load();
      for (auto& slot : slots_) {
        slot.seq.store(seq);
        slot.received.store(0);
        slot.last_latency.store(0);
        slot.sender_unavailable.store(false);
      }
      sent_.store(seq + 1, std::memory_order_release);
      const std::int64_t sample_started = now_ns();
      std::vector<std::uint32_t> sender(senders_);
      for (unsigned s = 0; s < senders_; ++s) {
        // Spread the sending role over the clients (and so over the loops and source IPs).
        sender[s] =
            static_cast<std::uint32_t>((std::uint64_t{seq} * 7919 + s * 104729) % connected);
        send(pool, s, seq, sender[s]);
      }
      const std::int64_t deadline = now_ns() + timeout_ns;
      bool complete = false;
      while (!complete && now_ns() < deadline) {
        complete = true;
        for (unsigned s = 0; s < senders_; ++s) {
          Slot& slot = slots_[s];
          if (slot.sender_unavailable.exchange(false)) {
            sender[s] = (sender[s] + 1) % connected;
            send(pool, s, seq, sender[s]);
          }
          if (slot.received.load() < alive) complete = false;
        }
        if (!complete) std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      for (auto& slot : slots_) {
        deliveries += slot.received.load();
        const bool complete_slot = slot.received.load() >= alive;
        if (complete_slot) {
          rtts.push_back(slot.last_latency.load());
        } else {
          ++row.timeouts;
        }
        raw_.push_back({connected, k, sample_started - run_started_,
                        complete_slot ? slot.last_latency.load() : -1});
      }
      pause_for(options_.pause_ms / 1000);
    }
    row.latency = summarize(std::move(rtts));
    row.throughput = deliveries / std::max(1e-9, seconds_between(started, now_ns()));
    sampled_deliveries_ = deliveries;
  }

  // Missing/duplicate/out-of-order totals over every client so far (call between samples).
  void tally_delivery(ClientPool& pool, std::uint32_t connected, ResultRow& row) {
    const std::uint32_t end = sent_.load();
    std::atomic<std::uint64_t> missing{0};
    // Each loop checks its own clients (their state and checks are only touched there).
    pool.on_each_worker([&](Worker& worker) {
      std::uint64_t local = 0;
      for (std::uint32_t i = 0; i < connected; ++i) {
        if (pool.worker_index(i) != worker.index()) continue;
        if (pool.client(i).state() != Client::State::subscribed) continue;
        for (unsigned s = 0; s < senders_; ++s) local += check(i, s).missing(end);
      }
      missing.fetch_add(local);
    });
    row.missing = missing.load();
    row.duplicates = order_.duplicates.load();
    row.reordered = order_.reordered.load();
  }

  std::uint64_t sampled_deliveries() const { return sampled_deliveries_; }

  // Appends the step's samples to --samples-csv (a header when the file is new) and forgets them.
  bool write_samples(const std::string& path, const std::string& label) {
    if (path.empty()) return true;
    const bool fresh = !std::filesystem::exists(path);
    std::FILE* out = std::fopen(path.c_str(), "a");
    if (out == nullptr) {
      fmt::print(stderr, "cannot write {}\n", path);
      return false;
    }
    if (fresh) fmt::print(out, "label,clients,sample,start_ms,rtt_ms\n");
    for (const RawSample& r : raw_) {
      // A timed-out sample has no RTT: an empty field, never a number that looks measured.
      fmt::print(out, "{},{},{},{:.3f},{}\n", label, r.clients, r.index, r.start_ns / 1e6,
                 r.rtt_ns < 0 ? std::string() : fmt::format("{:.3f}", r.rtt_ns / 1e6));
    }
    raw_.clear();
    return std::fclose(out) == 0;
  }
  std::uint64_t foreign() const { return foreign_.load(); }

 private:
  SequenceCheck& check(std::uint32_t client, unsigned slot) {
    return checks_[static_cast<std::size_t>(client) * senders_ + slot];
  }

  void send(ClientPool& pool, unsigned slot, std::uint32_t seq, std::uint32_t client) {
    pool.post(client, [this, slot, seq](Client& c) {
      if (c.state() != Client::State::subscribed) {
        slots_[slot].sender_unavailable.store(true);
        return;
      }
      // The timestamp is taken on the sender's loop, right before the bytes leave.
      c.perform(command_data("broadcast", slot, seq, now_ns(), payload_));
    });
  }

  const BroadcastOptions& options_;
  const unsigned senders_;
  std::vector<Slot> slots_;
  std::vector<SequenceCheck> checks_;  // [client * senders + slot], touched by the client's loop
  const std::string payload_;
  std::atomic<std::uint32_t> sent_{0};  // broadcasts started per slot (= next sequence number)
  OrderTally order_;
  std::atomic<std::uint64_t> stale_{0};
  std::atomic<std::uint64_t> foreign_{0};  // broadcasts not from this run (another process)
  std::uint64_t sampled_deliveries_ = 0;
  struct RawSample {
    std::uint32_t clients;
    unsigned index;
    std::int64_t start_ns;  // since the run's creation
    std::int64_t rtt_ns;    // -1: timed out
  };
  std::vector<RawSample> raw_;
  const std::int64_t run_started_ = now_ns();
};

}  // namespace

int run_broadcast(const BroadcastOptions& options) {
  if (options.steps.empty()) return 1;
  const std::uint32_t total = options.steps.back();
  BroadcastRun run(options, total);
  const unsigned threads = std::max(1u, options.common.threads);
  auto layout = ClientLayout::single_stream(total, options.common.stream_id, threads);
  auto pool = ClientPool::create(options.common, std::move(layout), run);
  if (!pool) {
    fmt::print(stderr, "cannot reach {}: {}\n", options.common.url, pool.error().message());
    return 1;
  }
  const ServerProbe probe(options.common.server_pid);
  const std::uint64_t rss_before = probe.rss_kib();
  std::uint32_t connected = 0;
  bool delivery_ok = true;
  for (std::uint32_t step : options.steps) {
    ResultRow row;
    row.label = options.common.label;
    row.mode = "broadcast";
    row.clients = step;
    row.payload_bytes = options.payload_bytes;
    row.rss_before_kib = rss_before;
    const Window connect_window = Window::open(probe);
    if (!record_connect((*pool)->connect(connected, step), row)) return 1;
    connected = step;
    pause_for(options.common.settle_s);
    row.rss_kib = probe.rss_kib();
    const auto alive = (*pool)->tally().subscribed_count() - (*pool)->tally().dropped_count();
    if (row.rss_kib > 0 && alive > 0) {
      row.rss_per_conn_bytes =
          (static_cast<double>(row.rss_kib) - static_cast<double>(rss_before)) * 1024.0 /
          static_cast<double>(alive);
    }
    ResultRow connect_cpu;
    connect_window.close_into(probe, connect_cpu);

    const Window window = Window::open(probe);
    run.sample(**pool, connected, row);
    window.close_into(probe, row);
    row.failures = (*pool)->tally().failed_count();
    row.dropped = (*pool)->tally().dropped_count();
    if (row.server_cpu_s > 0)
      row.deliveries_per_server_cpu_s = run.sampled_deliveries() / row.server_cpu_s;
    run.tally_delivery(**pool, connected, row);
    if (run.foreign() > 0)
      fmt::print("  ({} broadcasts from other senders ignored)\n", run.foreign());
    if (!emit(options.common, row)) return 1;
    if (!run.write_samples(options.samples_csv, options.common.label)) return 1;
    fmt::print("  connect phase: generator CPU {:.2f} s, server CPU {:.2f} s\n",
               connect_cpu.bench_cpu_s, connect_cpu.server_cpu_s);
    if (row.missing > 0 || row.duplicates > 0) delivery_ok = false;
  }
  return delivery_ok ? 0 : 2;
}

}  // namespace cablecast::bench
