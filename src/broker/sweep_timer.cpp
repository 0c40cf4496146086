#include "broker/sweep_timer.hpp"

#include <boost/asio/post.hpp>
#include <utility>

namespace cablecast::broker {

namespace asio = boost::asio;

SweepTimer::SweepTimer(asio::io_context& io, std::chrono::milliseconds period,
                       std::function<bool()> sweep)
    : io_(io), period_(period), state_(std::make_shared<State>(io)) {
  state_->sweep = std::move(sweep);
}

SweepTimer::~SweepTimer() { stop(); }

void SweepTimer::arm() {
  if (state_->armed.exchange(true)) return;
  // The timer belongs to the io thread: start the wait there.
  asio::post(io_, [state = state_, period = period_] { wait(state, period); });
}

void SweepTimer::stop() {
  std::lock_guard lock(state_->mutex);
  state_->sweep = nullptr;
}

void SweepTimer::wait(const std::shared_ptr<State>& state, std::chrono::milliseconds period) {
  state->timer.expires_after(period);
  // The handler holds the state, so the timer lives until it fires even if the owner is gone;
  // with `sweep` cleared it then simply ends.
  state->timer.async_wait([state, period](boost::system::error_code ec) {
    if (ec) return;
    // Disarmed before sweeping: an arm() from now on starts a new wait unless we re-arm below,
    // so a membership added during the sweep is never left without a timer.
    state->armed = false;
    bool again = false;
    {
      std::lock_guard lock(state->mutex);
      if (!state->sweep) return;
      again = state->sweep();
    }
    if (again && !state->armed.exchange(true)) wait(state, period);
  });
}

}  // namespace cablecast::broker
