#pragma once
// The counters of one event loop, read by the metrics scrape (src/metrics).
//
// Each block is written by exactly one thread, its loop's, so an update is a relaxed load and a
// relaxed store of a std::atomic: a plain add in the machine code, no locked read-modify-write,
// no cache line shared with another loop. The atomics are only there so that the scrape thread
// may read while the loop writes (it sees each value whole, possibly a moment old). The scrape
// sums the blocks of every loop.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/assert.hpp"

namespace cablecast::metrics {

// Monotonic count, single writer.
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A level that goes up and down, single writer. Signed, so that a transient mistake shows as a
// negative number instead of wrapping to 2^64.
class Gauge {
 public:
  void add(std::int64_t n) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(std::int64_t n) noexcept { value_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Fixed upper bounds in seconds, ascending; +Inf is implicit.
template <std::size_t N>
using Buckets = std::array<double, N>;

// A Prometheus histogram with fixed buckets, single writer. Counts are kept per bucket (not
// cumulative) so an observation touches one counter; the exposition accumulates them.
template <std::size_t N>
class Histogram {
 public:
  explicit constexpr Histogram(const Buckets<N>& bounds) : bounds_(bounds) {}

  // Prometheus' rule: an observation equal to a bound counts in that bound's bucket ("le").
  static std::size_t bucket_of(const Buckets<N>& bounds, double seconds) noexcept {
    return static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), seconds) -
                                    bounds.begin());
  }

  void observe(std::chrono::nanoseconds elapsed) noexcept {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    counts_[bucket_of(bounds_, seconds)].add();
    sum_nanoseconds_.add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, elapsed.count())));
  }

  const Buckets<N>& bounds() const noexcept { return bounds_; }
  // Observations in bucket i alone (i == N: above the last bound).
  std::uint64_t bucket_count(std::size_t i) const noexcept {
    CABLE_ASSERT(i <= N);
    return counts_[i].value();
  }
  double sum_seconds() const noexcept {
    return static_cast<double>(sum_nanoseconds_.value()) / 1e9;
  }

 private:
  const Buckets<N>& bounds_;
  std::array<Counter, N + 1> counts_{};
  Counter sum_nanoseconds_;
};

// Broadcast fan-out on one loop: microseconds (a few subscribers) to a few hundred
// milliseconds (tens of thousands).
inline constexpr Buckets<14> kFanoutBuckets{0.00001, 0.00005, 0.0001, 0.00025, 0.0005,
                                            0.001,   0.0025,  0.005,  0.01,    0.025,
                                            0.05,    0.1,     0.25,   1.0};

// Commands received, by type: the protocol's commands, AnyCable's extensions, and frames that
// are not a command at all.
enum class CommandKind : std::uint8_t {
  subscribe,
  unsubscribe,
  message,
  history,
  join,
  leave,
  presence,
  whisper,
  pong,
  ping,
  invalid,  // malformed JSON, unknown command, missing fields
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(CommandKind::count_)>
    kCommandLabels{"subscribe", "unsubscribe", "message", "history", "join",   "leave",
                   "presence",  "whisper",     "pong",    "ping",    "invalid"};

// Why a request on the cable path did not become a WebSocket.
enum class HandshakeRejection : std::uint8_t {
  bad_request,       // malformed HTTP, bad Sec-WebSocket-Key, a body on an upgrade (400, 431)
  not_websocket,     // not GET, or no Upgrade: websocket (404, as Rails)
  version,           // Sec-WebSocket-Version other than 13 (426)
  origin,            // Origin not allowed (404, as Rails)
  connection_limit,  // --max-connections reached (503)
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(HandshakeRejection::count_)>
    kHandshakeRejectionLabels{"bad_request", "not_websocket", "version", "origin",
                              "connection_limit"};

// Why a subscribe was answered with reject_subscription.
enum class SubscriptionRejection : std::uint8_t {
  limit,            // --max-subscriptions, or the connection's identifier bytes
  unknown_channel,  // no such channel, and no RPC application to ask
  rejected,         // the channel (or the application over RPC) rejected it, or a stream failed
  count_
};
inline constexpr std::array<std::string_view,
                            static_cast<std::size_t>(SubscriptionRejection::count_)>
    kSubscriptionRejectionLabels{"limit", "unknown_channel", "rejected"};

// Where a broadcast came from (docs/metrics.md).
enum class BroadcastSource : std::uint8_t {
  api,      // POST <broadcast path> on this node
  channel,  // a channel's broadcast(), a whisper or Server::broadcast on this node
  pubsub,   // received from the pub/sub adapter (every node's, this one's included)
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(BroadcastSource::count_)>
    kBroadcastSourceLabels{"api", "channel", "pubsub"};

// AnyCable RPC calls (--rpc-url), by method, and how they ended.
enum class RpcMethod : std::uint8_t { connect, command, disconnect, count_ };
inline constexpr std::array<std::string_view, static_cast<std::size_t>(RpcMethod::count_)>
    kRpcMethodLabels{"connect", "command", "disconnect"};
enum class RpcOutcome : std::uint8_t {
  success,      // status SUCCESS
  failure,      // status FAILURE: the application refused (connection, subscription)
  error,        // status ERROR: the application failed
  unavailable,  // no answer: transport error, timeout, shutdown
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(RpcOutcome::count_)>
    kRpcOutcomeLabels{"success", "failure", "error", "unavailable"};

// An RPC round trip: a local app answers in about a millisecond; the default timeout is 3 s.
inline constexpr Buckets<13> kRpcBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

template <class Enum, std::size_t N>
class CounterSet {
 public:
  void add(Enum which, std::uint64_t n = 1) noexcept { at(which).add(n); }
  Counter& at(Enum which) noexcept {
    CABLE_ASSERT(static_cast<std::size_t>(which) < N);
    return counters_[static_cast<std::size_t>(which)];
  }
  std::uint64_t value(std::size_t i) const noexcept { return counters_[i].value(); }
  static constexpr std::size_t size() { return N; }

 private:
  std::array<Counter, N> counters_{};
};

struct LoopMetrics {
  CounterSet<CommandKind, kCommandLabels.size()> commands;
  CounterSet<HandshakeRejection, kHandshakeRejectionLabels.size()> handshakes_rejected;
  CounterSet<SubscriptionRejection, kSubscriptionRejectionLabels.size()> subscriptions_rejected;
  CounterSet<BroadcastSource, kBroadcastSourceLabels.size()> broadcasts;
  Counter messages_delivered;  // broadcast frames the hub queued to subscribers
  Counter bytes_received;      // from clients' sockets (TLS: decrypted), HTTP included
  Counter bytes_sent;          // to clients' sockets (TLS: before encryption), HTTP included
  Counter slow_clients_dropped;
  Gauge subscriptions;  // held by this loop's connections, pending or confirmed
  Gauge streams;        // streams this loop's hub shard has subscribed to
  Histogram<kFanoutBuckets.size()> fanout{kFanoutBuckets};
  // By method, then outcome: rpc_calls[method * kRpcOutcomeLabels.size() + outcome].
  std::array<Counter, kRpcMethodLabels.size() * kRpcOutcomeLabels.size()> rpc_calls{};
  std::array<Histogram<kRpcBuckets.size()>, kRpcMethodLabels.size()> rpc_duration{
      Histogram<kRpcBuckets.size()>{kRpcBuckets}, Histogram<kRpcBuckets.size()>{kRpcBuckets},
      Histogram<kRpcBuckets.size()>{kRpcBuckets}};

  void count_rpc(RpcMethod method, RpcOutcome outcome, std::chrono::nanoseconds elapsed) noexcept {
    const auto m = static_cast<std::size_t>(method);
    rpc_calls[m * kRpcOutcomeLabels.size() + static_cast<std::size_t>(outcome)].add();
    rpc_duration[m].observe(elapsed);
  }
};

// The counters of the event loop running on this thread; null on other threads. Set by the
// loop's thread when it starts: lets code callable from any thread (Server::broadcast) count
// into its loop's block when it runs on one.
inline thread_local LoopMetrics* this_thread_loop_metrics = nullptr;

}  // namespace cablecast::metrics
