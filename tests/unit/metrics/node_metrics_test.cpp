#include "metrics/node_metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace cablecast::metrics {
namespace {

// The sample line of `name` (with its labels) in `text`, or "" when absent.
std::string line_of(const std::string& text, const std::string& name) {
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return {};
  auto end = text.find('\n', at + 1);
  return text.substr(at + 1, end - at - 1);
}

TEST(NodeMetrics, SumsTheCountersOfEveryLoop) {
  LoopMetrics a, b;
  a.commands.add(CommandKind::subscribe, 2);
  b.commands.add(CommandKind::subscribe, 3);
  a.messages_delivered.add(10);
  b.messages_delivered.add(5);
  a.subscriptions.add(4);
  b.subscriptions.add(-1);
  a.handshakes_rejected.add(HandshakeRejection::origin);
  const std::vector<const LoopMetrics*> loops{&a, &b};
  const std::string text = render_node_metrics(loops, NodeFigures{}, nullptr);
  EXPECT_EQ(line_of(text, "cablecast_commands_received_total{type=\"subscribe\"}"),
            "cablecast_commands_received_total{type=\"subscribe\"} 5");
  EXPECT_EQ(line_of(text, "cablecast_messages_delivered_total"),
            "cablecast_messages_delivered_total 15");
  EXPECT_EQ(line_of(text, "cablecast_subscriptions"), "cablecast_subscriptions 3");
  EXPECT_EQ(line_of(text, "cablecast_handshakes_rejected_total{reason=\"origin\"}"),
            "cablecast_handshakes_rejected_total{reason=\"origin\"} 1");
}

TEST(NodeMetrics, AddsOffLoopBroadcastsToTheChannelSource) {
  LoopMetrics a;
  a.broadcasts.add(BroadcastSource::channel, 2);
  NodeFigures node;
  node.channel_broadcasts_off_loop = 3;
  const std::vector<const LoopMetrics*> loops{&a};
  const std::string text = render_node_metrics(loops, node, nullptr);
  EXPECT_EQ(line_of(text, "cablecast_broadcasts_total{source=\"channel\"}"),
            "cablecast_broadcasts_total{source=\"channel\"} 5");
}

TEST(NodeMetrics, SumsHistogramsBucketByBucket) {
  LoopMetrics a, b;
  a.fanout.observe(std::chrono::microseconds(5));     // le 1e-05
  b.fanout.observe(std::chrono::microseconds(5));     // le 1e-05
  b.fanout.observe(std::chrono::milliseconds(2000));  // +Inf
  const std::vector<const LoopMetrics*> loops{&a, &b};
  const std::string text = render_node_metrics(loops, NodeFigures{}, nullptr);
  EXPECT_EQ(line_of(text, "cablecast_broadcast_fanout_seconds_bucket{le=\"1e-05\"}"),
            "cablecast_broadcast_fanout_seconds_bucket{le=\"1e-05\"} 2");
  EXPECT_EQ(line_of(text, "cablecast_broadcast_fanout_seconds_bucket{le=\"+Inf\"}"),
            "cablecast_broadcast_fanout_seconds_bucket{le=\"+Inf\"} 3");
  EXPECT_EQ(line_of(text, "cablecast_broadcast_fanout_seconds_count"),
            "cablecast_broadcast_fanout_seconds_count 3");
}

TEST(NodeMetrics, CountsRpcCallsByMethodAndOutcome) {
  LoopMetrics a;
  a.count_rpc(RpcMethod::command, RpcOutcome::unavailable, std::chrono::milliseconds(3000));
  const std::vector<const LoopMetrics*> loops{&a};
  const std::string text = render_node_metrics(loops, NodeFigures{}, nullptr);
  EXPECT_EQ(line_of(text, "cablecast_rpc_calls_total{method=\"command\",outcome=\"unavailable\"}"),
            "cablecast_rpc_calls_total{method=\"command\",outcome=\"unavailable\"} 1");
  EXPECT_EQ(line_of(text, "cablecast_rpc_calls_total{method=\"command\",outcome=\"success\"}"),
            "cablecast_rpc_calls_total{method=\"command\",outcome=\"success\"} 0");
  EXPECT_EQ(line_of(text, "cablecast_rpc_duration_seconds_sum{method=\"command\"}"),
            "cablecast_rpc_duration_seconds_sum{method=\"command\"} 3");
}

TEST(NodeMetrics, ReportsThePubSubLink) {
  NodeFigures node;
  node.pubsub_connected = false;
  node.pubsub_reconnects = 4;
  const std::string text = render_node_metrics({}, node, nullptr);
  EXPECT_EQ(line_of(text, "cablecast_pubsub_connected"), "cablecast_pubsub_connected 0");
  EXPECT_EQ(line_of(text, "cablecast_pubsub_reconnects_total"),
            "cablecast_pubsub_reconnects_total 4");
}

TEST(NodeMetrics, LeavesProcessMetricsOutWhenUnknown) {
  EXPECT_EQ(render_node_metrics({}, NodeFigures{}, nullptr).find("process_"), std::string::npos);
  ProcessMetrics process;
  process.resident_bytes = 4096;
  EXPECT_EQ(
      line_of(render_node_metrics({}, NodeFigures{}, &process), "process_resident_memory_bytes"),
      "process_resident_memory_bytes 4096");
}

}  // namespace
}  // namespace cablecast::metrics
