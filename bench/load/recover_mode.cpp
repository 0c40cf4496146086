// Recovery of resumable sessions (AnyCable's extended protocol; issue 10's benchmark): every
// client subscribes to one stream over actioncable-v1-ext-json; numbered broadcasts go through
// the HTTP broadcast API at a fixed rate throughout; all clients are cut off together (RST, as
// a dropped network path), stay away for --outage seconds while broadcasts go on, then come
// back with their sid and ask for the history after the last position they saw. Measured: the
// time from reconnecting until every client is restored and has its history (confirm_history),
// per-client recovery times, and, per client, broadcasts lost and duplicated over the whole run.
//
// The generator, not a TCP proxy, cuts the connections: a proxy would carry every delivery of
// 10,000 clients through one more process on the same two cores and measure itself.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "client_pool.hpp"
#include "clock.hpp"
#include "http_broadcaster.hpp"
#include "mode_support.hpp"
#include "modes.hpp"
#include "process_stats.hpp"
#include "sequence_check.hpp"
#include "ws_url.hpp"

namespace cablecast::bench {
namespace {

class RecoverRun final : public ClientObserver {
 public:
  explicit RecoverRun(std::uint32_t clients)
      : checks_(clients), subscribed_once_(clients, 0), back_ns_(clients, 0) {}

  void on_subscribed(Client& client) override {
    const auto i = client.index();
    if (!subscribed_once_[i]) {
      subscribed_once_[i] = 1;
      checks_[i].start(0);  // every client subscribes before the first broadcast
      return;
    }
    // Back as a new session (the server did not restore it): recovered, but what it missed
    // meanwhile stays missing in its check.
    back_ns_[i] = now_ns();
    new_sessions_.fetch_add(1, std::memory_order_relaxed);
  }

  void on_restored(Client& client, bool history_confirmed) override {
    back_ns_[client.index()] = now_ns();
    (history_confirmed ? restored_ : history_rejected_).fetch_add(1, std::memory_order_relaxed);
  }

  void on_message(Client& client, const ServerFrame& frame) override {
    if (frame.action != "broadcast" || frame.slot != 0 || frame.seq < 0) {
      foreign_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    order_.record(checks_[client.index()].observe(static_cast<std::uint32_t>(frame.seq)));
  }

  // Clients (subscribed now) that have not yet seen broadcast `end - 1`. On the loops.
  std::uint64_t behind(ClientPool& pool, std::uint32_t end) {
    std::atomic<std::uint64_t> count{0};
    pool.on_each_worker([&](Worker& worker) {
      std::uint64_t local = 0;
      for (std::uint32_t i = 0; i < pool.size(); ++i) {
        if (pool.worker_index(i) != worker.index()) continue;
        if (pool.client(i).state() != Client::State::subscribed) continue;
        if (checks_[i].next() < end) ++local;
      }
      count.fetch_add(local);
    });
    return count.load();
  }

  struct Losses {
    std::uint64_t total = 0;
    std::uint64_t clients = 0;  // with at least one lost
    std::uint64_t max = 0;      // lost by the worst client
  };
  // What every subscribed client missed of [0, end). On the loops.
  Losses losses(ClientPool& pool, std::uint32_t end) {
    std::vector<Losses> per_worker(pool.worker_count());
    pool.on_each_worker([&](Worker& worker) {
      Losses& local = per_worker[worker.index()];
      for (std::uint32_t i = 0; i < pool.size(); ++i) {
        if (pool.worker_index(i) != worker.index()) continue;
        if (pool.client(i).state() != Client::State::subscribed) continue;
        const std::uint64_t missing = checks_[i].missing(end);
        local.total += missing;
        local.clients += missing > 0 ? 1 : 0;
        local.max = std::max(local.max, missing);
      }
    });
    Losses out;
    for (const auto& l : per_worker) {
      out.total += l.total;
      out.clients += l.clients;
      out.max = std::max(out.max, l.max);
    }
    return out;
  }

  // Per client, from `since_ns` until it was back (only clients back after it). Call after the
  // loops wrote back_ns_ (on_each_worker orders it).
  std::vector<std::int64_t> recovery_times(std::int64_t since_ns) const {
    std::vector<std::int64_t> out;
    for (std::int64_t back : back_ns_) {
      if (back > since_ns) out.push_back(back - since_ns);
    }
    return out;
  }

  std::atomic<std::uint64_t> restored_{0};
  std::atomic<std::uint64_t> history_rejected_{0};
  std::atomic<std::uint64_t> new_sessions_{0};
  std::atomic<std::uint64_t> foreign_{0};
  OrderTally order_;

 private:
  std::vector<SequenceCheck> checks_;          // by client, touched by its loop
  std::vector<std::uint8_t> subscribed_once_;  // by client, touched by its loop
  std::vector<std::int64_t> back_ns_;          // by client, touched by its loop
};

}  // namespace

int run_recover(const RecoverOptions& options) {
  CommonOptions common = options.common;
  common.ext_protocol = true;  // only ext sessions are resumable
  auto url = parse_ws_url(common.url);
  if (!url) {
    fmt::print(stderr, "bad --url {}: {}\n", common.url, url.error().message());
    return 1;
  }
  RecoverRun run(options.clients);
  const unsigned threads = std::max(1u, common.threads);
  auto pool = ClientPool::create(
      common, ClientLayout::single_stream(options.clients, common.stream_id, threads), run);
  if (!pool) {
    fmt::print(stderr, "cannot reach {}: {}\n", common.url, pool.error().message());
    return 1;
  }
  const ServerProbe probe(common.server_pid);
  ResultRow row;
  row.label = common.label;
  row.mode = "recover";
  row.clients = options.clients;
  row.payload_bytes = options.payload_bytes;
  row.rss_before_kib = probe.rss_kib();
  const ConnectOutcome first = (*pool)->connect(0, options.clients);
  if (!record_connect(first, row)) return 1;
  pause_for(common.settle_s);
  row.rss_kib = probe.rss_kib();
  if (row.rss_kib > 0 && first.subscribed > 0) {
    row.rss_per_conn_bytes =
        (static_cast<double>(row.rss_kib) - static_cast<double>(row.rss_before_kib)) * 1024.0 /
        static_cast<double>(first.subscribed);
  }
  fmt::print("connected {} ext clients in {:.2f} s\n", first.subscribed, first.seconds);

  HttpBroadcaster sender({url->host, url->port, options.broadcast_path, options.broadcast_key,
                          "all" + common.stream_id},
                         options.rate, options.payload_bytes);
  sender.start();
  pause_for(options.before_s);
  const std::uint32_t sent_at_cut = sender.sent();
  (*pool)->cut(0, options.clients);
  pause_for(options.outage_s);
  const std::uint32_t sent_at_back = sender.sent();

  // Back: the figure is the time from here until the last client's history is confirmed.
  const Window window = Window::open(probe);
  const std::int64_t back_ns = now_ns();
  const ConnectOutcome back = (*pool)->reconnect(0, options.clients);
  window.close_into(probe, row);
  const std::uint32_t sent_at_recovered = sender.sent();
  pause_for(options.after_s);
  sender.stop();
  const std::uint32_t end = sender.sent();

  // Let the last broadcasts reach everyone before counting what is missing.
  const std::int64_t drain_deadline =
      now_ns() + static_cast<std::int64_t>(options.drain_timeout_s * 1e9);
  while (run.behind(**pool, end) > 0 && now_ns() < drain_deadline) pause_for(0.02);
  const auto lost = run.losses(**pool, end);

  row.connect_s = back.seconds;
  row.connect_rate = back.seconds > 0 ? back.subscribed / back.seconds : 0;
  row.failures = options.clients - back.subscribed;  // not back within the connect timeout
  row.dropped = (*pool)->tally().dropped_count();
  row.latency = summarize(run.recovery_times(back_ns));
  row.timeouts = run.history_rejected_.load();
  row.missing = lost.total;
  row.duplicates = run.order_.duplicates.load();
  row.reordered = run.order_.reordered.load();
  row.throughput = end / std::max(1e-9, seconds_between(back_ns, now_ns()) + options.before_s +
                                            options.outage_s);
  if (!emit(common, row)) return 1;
  if (!back.failures.empty()) fmt::print("  reconnect failures: {}\n", back.failures);
  fmt::print(
      "  recovery: {} restored with history, {} history rejected, {} new sessions (not "
      "restored), {} not back; every client back {:.3f} s after reconnecting (per client p50 "
      "{:.3f} s, p99 {:.3f} s); server CPU meanwhile {:.2f} s\n",
      run.restored_.load(), run.history_rejected_.load(), run.new_sessions_.load(), row.failures,
      back.seconds, row.latency.p50_ms / 1000, row.latency.p99_ms / 1000, row.server_cpu_s);
  fmt::print(
      "  broadcasts: {} sent (POST {} at {:g}/s, {} failed{}): {} before the cut, {} during the "
      "outage, {} while reconnecting, {} after\n",
      end, options.broadcast_path, options.rate, sender.failures(),
      sender.failures() > 0 ? ", last: " + sender.last_error() : std::string(), sent_at_cut,
      sent_at_back - sent_at_cut, sent_at_recovered - sent_at_back, end - sent_at_recovered);
  fmt::print(
      "  lost per client: total {}, clients with a loss {}, most by one client {}; "
      "duplicates {}, out of order {}\n",
      lost.total, lost.clients, lost.max, row.duplicates, row.reordered);
  if (run.foreign_.load() > 0) fmt::print("  ({} other messages ignored)\n", run.foreign_.load());
  if (options.hold_s > 0) {
    catch_stop_signals();
    fmt::print("holding {} connections for {:.0f} s\n", back.subscribed, options.hold_s);
    std::fflush(stdout);
    hold(options.hold_s);
  }
  const bool complete = lost.total == 0 && row.duplicates == 0 && row.failures == 0 &&
                        run.new_sessions_.load() == 0 && run.history_rejected_.load() == 0;
  return complete ? 0 : 2;
}

}  // namespace cablecast::bench
