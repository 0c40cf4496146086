#include "server/loop.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstring>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "protocol/encode.hpp"
#include "session/session.hpp"
#include "ws/frame_encoder.hpp"

namespace cablecast::server {

namespace asio = boost::asio;

namespace {
// --pin-threads: a failure (a CPU taken away since start-up) leaves the loop unpinned, said once.
void pin_thread(std::thread& thread, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (int error = pthread_setaffinity_np(thread.native_handle(), sizeof(set), &set); error != 0) {
    CC_LOG_WARN("could not pin an event loop to CPU {}: {}", cpu, std::strerror(error));
  }
}

// A tick every ~100 ms, at most 30 slices: small enough that a slice's pings add a few percent
// to any broadcast they meet, few enough that the ticks cost nothing (10 timer wake-ups a second).
unsigned heartbeat_slices(std::chrono::milliseconds interval) {
  constexpr std::chrono::milliseconds kTick{100};
  constexpr unsigned kMaxSlices = 30;
  const auto slices = static_cast<unsigned>(interval / kTick);
  return std::clamp(slices, 1u, kMaxSlices);
}

}  // namespace
using Clock = std::chrono::steady_clock;

Loop::Loop(unsigned index, LoopShared shared, metrics::LoopMetrics& metrics)
    : index_(index),
      shared_(shared),
      metrics_(metrics),
      work_(asio::make_work_guard(io_)),
      shard_(shared.hub.add_shard(io_, &metrics)),
      sessions_(heartbeat_slices(shared.ping_interval)),
      rpc_(shared.rpc ? std::make_unique<MeteredRpcBackend>(*shared.rpc, metrics) : nullptr),
      env_{io_,
           shard_,
           shared.adapter,
           shared.channels,
           shared.connect,
           shared.blocking,
           sessions_,
           identifiers_,
           shared.open_sessions,
           shared.session_limits,
           session::RpcEnvironment{
               rpc_.get(), shared.rpc_forward_headers, shared.tls != nullptr, {}},
           shared.jwt,
           shared.broker,
           metrics},
      router_(shared.router_options, env_),
      connections_(std::make_unique<ws::ConnectionSet>(io_, shared.limits, router_, shared.tls,
                                                       shared.batch_sends, &metrics)),
      ping_timer_(io_),
      shutdown_timer_(io_) {
  connections_->set_loop_index(index);
}

Loop::~Loop() {
  join();
  // The thread ran io_ until it had no work left, so nothing still refers to what we free.
  CABLE_ASSERT(sessions_.empty());
}

void Loop::set_tls(std::shared_ptr<const ws::TlsContext> tls) {
  asio::post(io_,
             [this, tls = std::move(tls)]() mutable { connections_->set_tls(std::move(tls)); });
}

void Loop::start() {
  arm_ping();
  thread_ = std::thread([this] {
    metrics::this_thread_loop_metrics = &metrics_;
    try {
      io_.run();
    } catch (const std::exception& e) {
      // A handler threw: that is a bug, and a half-dead loop would silently drop clients.
      CC_LOG_ERROR("event loop {} crashed: {}", index_, e.what());
      std::abort();
    }
  });
  // From here, not from the thread itself: pinned before start() returns (and before the server
  // logs that it listens), whenever the new thread gets to run.
  if (cpu_) pin_thread(thread_, *cpu_);
}

void Loop::join() {
  if (thread_.joinable()) thread_.join();
}

void Loop::arm_ping() {
  // Each tick pings one slice of the sessions; every session once per ping_interval.
  if (next_ping_ == Clock::time_point{}) next_ping_ = Clock::now();
  next_ping_ += shared_.ping_interval / sessions_.slices();
  ping_timer_.expires_at(next_ping_);
  ping_timer_.async_wait([this](boost::system::error_code ec) {
    // cancel() cannot recall a tick that already fired and waits to run: without the flag it
    // would arm the next one, and the loop would never run out of work to finish (with a tick
    // every 100 ms that happened; SIGTERM then ended in SIGKILL under load).
    if (ec || pings_stopped_) return;
    ping_due_slice();
    arm_ping();
  });
}

void Loop::ping_due_slice() {
  bool full_turn = false;
  session::SessionList& due = sessions_.next_due(full_turn);
  if (full_turn) shard_.forget_unused_streams(Clock::now());
  if (due.empty()) return;
  // One frame per tick: every session of the slice gets the same bytes.
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  SharedFrame ping = ws::make_text_frame(protocol::encode_ping(seconds));
  const auto now = static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count());
  for (auto it = due.begin(); it != due.end();) {
    auto& session = *it++;  // on_heartbeat may close it, which unlinks it
    session.send(ping);
    session.on_heartbeat(now);
  }
}

void Loop::shutdown(Clock::time_point deadline) {
  asio::post(io_, [this, deadline] {
    pings_stopped_ = true;
    ping_timer_.cancel();
    connections_->stop_accepting_requests();
    // disconnect() unlinks nothing synchronously (the close is reported later), but be safe.
    for (unsigned i = 0; i < sessions_.slices(); ++i) {
      auto& slice = sessions_.slice(i);
      for (auto it = slice.begin(); it != slice.end();) {
        session::Session& session = *it++;
        session.disconnect("server_restart", true);
      }
    }
    watch_shutdown(deadline);
  });
}

void Loop::watch_shutdown(Clock::time_point deadline) {
  if (connections_->size() == 0) return finish();
  if (Clock::now() >= deadline) {
    CC_LOG_WARN("shutdown deadline reached: aborting {} connections", connections_->size());
    connections_->abort_all();
    return finish();
  }
  shutdown_timer_.expires_after(std::chrono::milliseconds(20));
  shutdown_timer_.async_wait([this, deadline](boost::system::error_code ec) {
    if (!ec) watch_shutdown(deadline);
  });
}

void Loop::finish() {
  if (finished_) return;
  finished_ = true;
  if (at_finish_) at_finish_();
  // Let run() return once the last posted handlers (session close reports) have run.
  pings_stopped_ = true;
  ping_timer_.cancel();
  connections_->abort_all();
  work_.reset();
}

}  // namespace cablecast::server
