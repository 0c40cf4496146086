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
// follow. No answer within `bound` (the loop does not run): timed_out. Redis not reachable yet: a
// warning, and started anyway (the object retries with back-off and /ready says why, so a node
// may start before its Redis). Any other error (a bad URL, a wrong password): that error, since a
// configuration mistake must fail the start-up at once. `what` names the object in the logs.
inline boost::system::result<void> start_on_loop(
    boost::asio::io_context& io, std::chrono::milliseconds bound, std::string_view what,
    std::function<void(std::function<void(boost::system::error_code)>)> open) {
  const auto opened = open_on_loop(io, bound, std::move(open));
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

// Runs `close(done)` on `io` and waits until done() ran, at most `bound`; false: it did not.
// On the loop's own thread it does not wait (the close completes after the current turn).
inline bool close_on_loop(boost::asio::io_context& io, std::chrono::milliseconds bound,
                          std::function<void(std::function<void()>)> close) {
  auto closed = std::make_shared<std::promise<void>>();
  auto done = closed->get_future();
  boost::asio::post(
      io, [close = std::move(close), closed] { close([closed] { closed->set_value(); }); });
  if (io.get_executor().running_in_this_thread()) return true;
  return done.wait_for(bound) == std::future_status::ready;
}

}  // namespace cablecast::pubsub::redis
