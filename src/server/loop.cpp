#include "server/loop.hpp"

#include <pthread.h>
#include <sched.h>

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
}  // namespace
using Clock = std::chrono::steady_clock;

Loop::Loop(unsigned index, LoopShared shared, metrics::LoopMetrics& metrics)
    : index_(index),
      shared_(shared),
      metrics_(metrics),
      work_(asio::make_work_guard(io_)),
      shard_(shared.hub.add_shard(io_, &metrics)),
      rpc_(shared.rpc ? std::make_unique<MeteredRpcBackend>(*shared.rpc, metrics) : nullptr),
      env_{io_,
           shard_,
           shared.adapter,
           shared.channels,
           shared.connect,
           shared.blocking,
           sessions_,
           shared.open_sessions,
           shared.session_limits,
           session::RpcEnvironment{
               rpc_.get(), shared.rpc_forward_headers, shared.tls != nullptr, {}},
           shared.jwt,
           shared.broker,
           metrics},
      router_(shared.router_options, env_),
      connections_(std::make_unique<ws::ConnectionContext>(io_, shared.limits, router_, shared.tls,
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
  ping_timer_.expires_after(shared_.ping_interval);
  ping_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    shard_.forget_unused_streams(Clock::now());
    ping_all();
    arm_ping();
  });
}

void Loop::ping_all() {
  if (sessions_.empty()) return;
  // One frame for the whole loop: every welcomed session gets the same bytes.
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  SharedFrame ping = ws::make_text_frame(protocol::encode_ping(seconds));
  const auto now = static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count());
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto& session = *it++;  // on_heartbeat may close it, which unlinks it
    session.send(ping);
    session.on_heartbeat(now);
  }
}

void Loop::shutdown(Clock::time_point deadline) {
  asio::post(io_, [this, deadline] {
    ping_timer_.cancel();
    connections_->stop_accepting_requests();
    // disconnect() unlinks nothing synchronously (the close is reported later), but be safe.
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      session::Session& session = *it++;
      session.disconnect("server_restart", true);
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
  ping_timer_.cancel();
  connections_->abort_all();
  work_.reset();
}

}  // namespace cablecast::server
