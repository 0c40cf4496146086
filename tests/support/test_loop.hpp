#pragma once
// What a Session needs from its event loop, for unit tests: a real io_context and hub shard over
// a FakeAdapter, an empty channel registry and connect hook, a one-thread blocking pool, and the
// Environment that ties them together. Fixtures inherit it and add their transport and session
// (declared after it, so they are destroyed first).
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "action_cable_frames.hpp"
#include "fake_adapter.hpp"
#include "hub/hub.hpp"
#include "session/environment.hpp"
#include "session/session.hpp"

namespace cablecast::testing {

struct TestLoop {
  // Runs everything posted so far (stream confirmations, RPC completions, timers due).
  void drain() {
    io.restart();
    io.run();
  }

  boost::asio::io_context io;
  FakeAdapter adapter;
  metrics::LoopMetrics metrics;
  hub::HubShard shard{io, adapter, testing::kActionCableFrames, std::chrono::seconds(0), &metrics};
  session::ChannelRegistry channels;
  session::ConnectHook hook;
  boost::asio::thread_pool pool{1};
  session::HeartbeatRing sessions{1};
  session::IdentifierPool identifiers;
  std::atomic<std::size_t> open_sessions{0};
  session::Environment env{io,          shard,         adapter, channels, hook, pool, sessions,
                           identifiers, open_sessions, {},      {},       {},   {},   metrics};
};

}  // namespace cablecast::testing
