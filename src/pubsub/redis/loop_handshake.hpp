#pragma once
// Start-up and shutdown of the objects that live on the broker loop (the Redis adapter, the
// Redis history, presence, session cache, redisx consumer): the server's thread asks the loop to
// open or close them and waits for the answer, bounded, so that a bad URL fails the start-up with
// its own error and a shutdown lets pending replies arrive. Never called on the broker loop.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string_view>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "pubsub/redis/redis_error.hpp"

namespace cablecast::pubsub::redis {

// Runs `open(done)` on `io`; returns what it passed to done(), or nothing when it did not call
// it within `bound` (the loop does not run).
inline std::optional<boost::system::error_code> open_on_loop(
    boost::asio::io_context& io, std::chrono::milliseconds bound,
    std::function<void(std::function<void(boost::system::error_code)>)> open) {
  auto outcome = std::make_shared<std::promise<boost::system::error_code>>();
  auto ready = outcome->get_future();
  boost::asio::post(io, [open = std::move(open), outcome] {
    open([outcome](boost::system::error_code ec) { outcome->set_value(ec); });
  });
  if (ready.wait_for(bound) != std::future_status::ready) return std::nullopt;
  return ready.get();
}

// start() of an object on the broker loop: opens it there (open_on_loop), then the rule they all
// follow. No answer within its `connect_timeout` (the connection times out by itself) plus a
// margin against a loop that does not run: timed_out. Redis not reachable yet: a
// warning, and started anyway (the object retries with back-off and /ready says why, so a node
// may start before its Redis). Any other error (a bad URL, a wrong password): that error, since a
// configuration mistake must fail the start-up at once. `what` names the object in the logs.
inline boost::system::result<void> start_on_loop(
    boost::asio::io_context& io, std::chrono::milliseconds connect_timeout, std::string_view what,
    std::function<void(std::function<void(boost::system::error_code)>)> open) {
  const auto opened = open_on_loop(io, connect_timeout + std::chrono::seconds(2), std::move(open));
  if (!opened) {
    CC_LOG_ERROR("{}: no answer from the broker loop within the connect timeout", what);
    return RedisError::timed_out;
  }
  if (*opened && is_unreachable(*opened)) {
    CC_LOG_WARN("{}: Redis is not reachable yet ({}); retrying with backoff", what,
                opened->message());
    return {};
  }
  if (*opened) return *opened;
  return {};
}

// stop() of an object on the broker loop: runs `close(done)` there and waits until done() ran,
// at most its `flush` (the close is bounded by it) plus a margin against a stalled loop; past
// that, an error line naming `what`. On the loop's own thread it does not wait (the close
// completes after the current turn).
inline void close_on_loop(boost::asio::io_context& io, std::chrono::milliseconds flush,
                          std::string_view what, std::function<void(std::function<void()>)> close) {
  auto closed = std::make_shared<std::promise<void>>();
  auto done = closed->get_future();
  boost::asio::post(
      io, [close = std::move(close), closed] { close([closed] { closed->set_value(); }); });
  if (io.get_executor().running_in_this_thread()) return;
  if (done.wait_for(flush + std::chrono::seconds(5)) != std::future_status::ready) {
    CC_LOG_ERROR("{}: the broker loop did not finish closing the connection", what);
  }
}

// The once-only start and stop of an object whose connection lives on the broker loop and whose
// start() waits for that connection (RedisHistory, RedisxConsumer), both called off the loop:
// stop() does its work once, and only after start().
class LoopLifecycle {
 public:
  explicit LoopLifecycle(boost::asio::io_context& loop) : loop_(loop) {}
  // A started object must be stopped (closed on the loop) before it and the loop go.
  ~LoopLifecycle() { CABLE_ASSERT(!started_ || stopped_); }
  LoopLifecycle(const LoopLifecycle&) = delete;
  LoopLifecycle& operator=(const LoopLifecycle&) = delete;

  boost::system::result<void> start(
      std::chrono::milliseconds connect_timeout, std::string_view what,
      std::function<void(std::function<void(boost::system::error_code)>)> open) {
    CABLE_ASSERT(!started_ && !loop_.get_executor().running_in_this_thread());
    started_ = true;
    return start_on_loop(loop_, connect_timeout, what, std::move(open));
  }
  // True the first time after start(): the caller then closes the object (close_on_loop).
  bool begin_stop() {
    if (!started_ || stopped_) return false;
    stopped_ = true;
    CABLE_ASSERT(!loop_.get_executor().running_in_this_thread());
    return true;
  }

 private:
  boost::asio::io_context& loop_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace cablecast::pubsub::redis
