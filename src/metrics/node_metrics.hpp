#pragma once
// The node's metrics as Prometheus text: every loop's counters summed (core/loop_metrics.hpp),
// the node-wide figures the server keeps, and the process metrics. docs/metrics.md lists them.
#include <cstdint>
#include <span>
#include <string>

#include "core/loop_metrics.hpp"
#include "metrics/process_metrics.hpp"

namespace cablecast::metrics {

// What is not kept per loop.
struct NodeFigures {
  std::uint64_t connections = 0;  // open WebSocket sessions (the --max-connections figure)
  // Broadcasts by Server::broadcast from threads that are not event loops (counted once each).
  std::uint64_t channel_broadcasts_off_loop = 0;
  std::uint64_t pubsub_reconnects = 0;  // the adapter's health().reconnects
  bool pubsub_connected = true;
};

// Renders the exposition. `loops` are read while their threads write: each value is read whole,
// the set of them may be a moment apart (as any scrape). `process` null: left out.
std::string render_node_metrics(std::span<const LoopMetrics* const> loops, const NodeFigures& node,
                                const ProcessMetrics* process);

}  // namespace cablecast::metrics
