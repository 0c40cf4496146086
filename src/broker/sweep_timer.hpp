#pragma once
// A periodic timer for the memory stores' expiry: once armed (from any thread) it calls `sweep`
// on its io_context every `period` for as long as `sweep` returns true (something is still
// waiting to expire), then sleeps until armed again. So an idle store has no timer running, and
// expiry is precise to one period.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

namespace cablecast::broker {

// What "now" is for the memory stores; tests inject their own.
using SteadyClockFn = std::function<std::chrono::steady_clock::time_point()>;

class SweepTimer {
 public:
  SweepTimer(boost::asio::io_context& io, std::chrono::milliseconds period,
             std::function<bool()> sweep);
  ~SweepTimer();
  SweepTimer(const SweepTimer&) = delete;
  SweepTimer& operator=(const SweepTimer&) = delete;

  // Any thread, cheap when already armed.
  void arm();
  // Any thread: once it returns, `sweep` is not running and is never called again.
  void stop();

 private:
  struct State {
    explicit State(boost::asio::io_context& io) : timer(io) {}
    boost::asio::steady_timer timer;  // touched on the io thread only
    std::atomic<bool> armed{false};   // a wait is pending or about to be
    std::mutex mutex;                 // guards sweep, so stop() can wait out a running sweep
    std::function<bool()> sweep;
  };
  static void wait(const std::shared_ptr<State>& state, std::chrono::milliseconds period);

  boost::asio::io_context& io_;
  std::chrono::milliseconds period_;
  // Shared with the pending wait's handler: the timer outlives this object until it fires.
  std::shared_ptr<State> state_;
};

}  // namespace cablecast::broker
