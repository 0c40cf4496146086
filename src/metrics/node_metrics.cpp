#include "metrics/node_metrics.hpp"

#include <array>
#include <vector>

namespace cablecast::metrics {

namespace {

using Loops = std::span<const LoopMetrics* const>;

template <class Read>
std::uint64_t sum(Loops loops, Read read) {
  std::uint64_t total = 0;
  for (const LoopMetrics* loop : loops) total += read(*loop);
  return total;
}

template <class Read>
std::int64_t sum_signed(Loops loops, Read read) {
  std::int64_t total = 0;
  for (const LoopMetrics* loop : loops) total += read(*loop);
  return total;
}

// One labelled counter family from a CounterSet member of every loop.
template <class Member, std::size_t N>
void counter_family(Exposition& out, Loops loops, std::string_view name, std::string_view help,
                    std::string_view label, const std::array<std::string_view, N>& values,
                    Member member) {
  out.family(name, "counter", help);
  for (std::size_t i = 0; i < N; ++i) {
    out.sample(name, {{label, values[i]}},
               sum(loops, [&](const LoopMetrics& m) { return (m.*member).value(i); }));
  }
}

// Sums one histogram of every loop (`pick` chooses it in a block).
template <std::size_t N, class Pick>
void histogram_of(Exposition& out, Loops loops, std::string_view name,
                  std::initializer_list<Label> labels, const Buckets<N>& bounds, Pick pick) {
  std::array<std::uint64_t, N + 1> counts{};
  double seconds = 0;
  for (const LoopMetrics* loop : loops) {
    const Histogram<N>& h = pick(*loop);
    for (std::size_t i = 0; i <= N; ++i) counts[i] += h.bucket_count(i);
    seconds += h.sum_seconds();
  }
  out.histogram(name, labels, HistogramCounts{bounds, counts, seconds});
}

}  // namespace

std::string render_node_metrics(Loops loops, const NodeFigures& node,
                                const ProcessMetrics* process) {
  Exposition out;
  out.family("cablecast_connections", "gauge", "Open WebSocket connections.");
  out.sample("cablecast_connections", {}, node.connections);
  out.family("cablecast_subscriptions", "gauge",
             "Channel subscriptions held by open connections (pending or confirmed).");
  out.sample("cablecast_subscriptions", {},
             sum_signed(loops, [](const LoopMetrics& m) { return m.subscriptions.value(); }));
  out.family("cablecast_streams", "gauge",
             "Streams the event loops listen to, summed over loops (a stream with subscribers on "
             "two loops counts twice).");
  out.sample("cablecast_streams", {},
             sum_signed(loops, [](const LoopMetrics& m) { return m.streams.value(); }));

  counter_family(out, loops, "cablecast_commands_received_total",
                 "Commands received from clients, by type (invalid: not a command).", "type",
                 kCommandLabels, &LoopMetrics::commands);
  out.family("cablecast_messages_delivered_total", "counter",
             "Broadcast messages queued to subscribers (one per subscription per broadcast).");
  out.sample("cablecast_messages_delivered_total", {},
             sum(loops, [](const LoopMetrics& m) { return m.messages_delivered.value(); }));
  out.family("cablecast_received_bytes_total", "counter",
             "Bytes read from client connections (HTTP and WebSocket, after TLS).");
  out.sample("cablecast_received_bytes_total", {},
             sum(loops, [](const LoopMetrics& m) { return m.bytes_received.value(); }));
  out.family("cablecast_sent_bytes_total", "counter",
             "Bytes written to client connections (HTTP and WebSocket, before TLS).");
  out.sample("cablecast_sent_bytes_total", {},
             sum(loops, [](const LoopMetrics& m) { return m.bytes_sent.value(); }));

  out.family("cablecast_broadcasts_total", "counter",
             "Broadcasts, by source: api (HTTP broadcast API on this node), channel (published "
             "by a channel or Server::broadcast on this node), pubsub (received from the pub/sub "
             "adapter, this node's own included).");
  for (std::size_t i = 0; i < kBroadcastSourceLabels.size(); ++i) {
    std::uint64_t value = sum(loops, [&](const LoopMetrics& m) { return m.broadcasts.value(i); });
    if (i == static_cast<std::size_t>(BroadcastSource::channel)) {
      value += node.channel_broadcasts_off_loop;
    }
    out.sample("cablecast_broadcasts_total", {{"source", kBroadcastSourceLabels[i]}}, value);
  }
  out.family("cablecast_slow_clients_dropped_total", "counter",
             "Connections dropped because their outbound queue reached --max-outbound-bytes.");
  out.sample("cablecast_slow_clients_dropped_total", {},
             sum(loops, [](const LoopMetrics& m) { return m.slow_clients_dropped.value(); }));
  counter_family(out, loops, "cablecast_handshakes_rejected_total",
                 "HTTP requests refused instead of a WebSocket upgrade, by reason.", "reason",
                 kHandshakeRejectionLabels, &LoopMetrics::handshakes_rejected);
  counter_family(out, loops, "cablecast_subscriptions_rejected_total",
                 "Subscribe commands answered with reject_subscription, by reason.", "reason",
                 kSubscriptionRejectionLabels, &LoopMetrics::subscriptions_rejected);

  out.family("cablecast_rpc_calls_total", "counter",
             "AnyCable RPC calls to the application, by method and outcome.");
  for (std::size_t m = 0; m < kRpcMethodLabels.size(); ++m) {
    for (std::size_t o = 0; o < kRpcOutcomeLabels.size(); ++o) {
      const std::size_t at = m * kRpcOutcomeLabels.size() + o;
      out.sample("cablecast_rpc_calls_total",
                 {{"method", kRpcMethodLabels[m]}, {"outcome", kRpcOutcomeLabels[o]}},
                 sum(loops, [&](const LoopMetrics& l) { return l.rpc_calls[at].value(); }));
    }
  }
  out.family("cablecast_rpc_duration_seconds", "histogram",
             "AnyCable RPC call time, from the call to its answer (queueing and retries "
             "included), by method.");
  for (std::size_t m = 0; m < kRpcMethodLabels.size(); ++m) {
    histogram_of(
        out, loops, "cablecast_rpc_duration_seconds", {{"method", kRpcMethodLabels[m]}},
        kRpcBuckets, [&](const LoopMetrics& l) -> const auto& { return l.rpc_duration[m]; });
  }

  out.family("cablecast_pubsub_connected", "gauge",
             "1 when every pub/sub broker connection is up, else 0.");
  out.sample("cablecast_pubsub_connected", {}, std::uint64_t{node.pubsub_connected ? 1u : 0u});
  out.family("cablecast_pubsub_reconnects_total", "counter",
             "Pub/sub broker connections re-established since start.");
  out.sample("cablecast_pubsub_reconnects_total", {}, node.pubsub_reconnects);
  out.family("cablecast_broadcast_fanout_seconds", "histogram",
             "Time one event loop takes to queue a broadcast's frames to its subscribers, from "
             "the broadcast reaching the loop (one observation per loop with subscribers).");
  histogram_of(
      out, loops, "cablecast_broadcast_fanout_seconds", {}, kFanoutBuckets,
      [](const LoopMetrics& l) -> const auto& { return l.fanout; });

  if (process) write_process_metrics(out, *process);
  return out.take();
}

}  // namespace cablecast::metrics
