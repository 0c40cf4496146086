// Hub fan-out: one broadcast delivered to N subscribers of a stream on one loop. The
// subscribers only take the shared frame (as a connection queues it), so this is the hub's own
// cost: lookup, one encode per distinct identifier, one deliver() call per subscriber.
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "hub/hub.hpp"
#include "pubsub/memory_adapter.hpp"
#include "session/action_cable_frames.hpp"

namespace {

using namespace cablecast;

struct QueueingSubscriber final : hub::Subscriber {
  explicit QueueingSubscriber(const std::string& id) : identifier_(id) {}
  std::string_view identifier() const override { return identifier_; }
  // Like a connection: keeps a reference until "written", here until the next delivery.
  void deliver(const SharedFrame& frame) override { last_ = frame; }
  const std::string& identifier_;
  SharedFrame last_;
};

// range(0): subscribers; range(1): distinct identifiers among them.
void BM_HubFanOut(benchmark::State& state) {
  const auto subscribers = static_cast<std::size_t>(state.range(0));
  const auto distinct = static_cast<std::size_t>(state.range(1));
  boost::asio::io_context io;
  pubsub::MemoryAdapter adapter;
  const session::ActionCableFrames frames;
  hub::HubShard shard(io, adapter, frames);
  std::vector<std::string> identifiers;
  for (std::size_t i = 0; i < distinct; ++i) {
    identifiers.push_back(R"({"channel":"BenchmarkChannel","id":"bench)" + std::to_string(i) +
                          R"("})");
  }
  std::vector<std::unique_ptr<QueueingSubscriber>> subs;
  for (std::size_t i = 0; i < subscribers; ++i) {
    subs.push_back(std::make_unique<QueueingSubscriber>(identifiers[i % distinct]));
    shard.subscribe("allbench", subs.back().get(), [](boost::system::error_code) {});
  }
  io.run();  // the broker's (immediate) confirmation arrives through the loop
  auto payload = std::make_shared<const std::string>(
      R"({"action":"broadcast","slot":0,"seq":1,"t":1234567890123,"payload":")" +
      std::string(64, 'x') + R"("})");
  for (auto _ : state) shard.deliver("allbench", payload);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * subscribers));
}
BENCHMARK(BM_HubFanOut)
    ->Args({1000, 1})
    ->Args({10000, 1})
    ->Args({10000, 10})
    ->Args({1000, 1000})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
