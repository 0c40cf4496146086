// A connection's deadlines, checked by its loop's sweep once a second instead of a timer per
// connection (ws/connection_set.hpp): the handshake's, the close handshake's, and the idle
// probe's. The rest of the connection is in ws/connection.cpp.
#include <chrono>

#include "core/log.hpp"
#include "ws/connection.hpp"
#include "ws/connection_set.hpp"
#include "ws/frame_encoder.hpp"

namespace cablecast::ws {

void Connection::sweep(Clock::time_point now) {
  log::ConnectionScope scope(log_id());
  switch (state_) {
    case State::tls_handshake:
    case State::reading_request:
      if (now >= deadline_) {
        CC_LOG_INFO("handshake timeout: no complete HTTP request within {} ms",
                    set_.limits_.handshake_timeout.count());
        abort("handshake timeout");
      }
      return;
    case State::responding:
    case State::closing:
      // While a shutdown drains, frames still queued ahead of our close frame wait for the
      // shutdown deadline (--shutdown-timeout), not for this connection's close timeout.
      if (set_.stopping_ && !outbound_.empty()) return;
      if (now >= deadline_) {
        CC_LOG_INFO("closing a connection whose close handshake did not finish within {} ms",
                    set_.limits_.close_timeout.count());
        abort("close handshake timeout");
      }
      return;
    case State::open: {
      // A drained queue keeps its capacity for the next burst; an idle connection gives it
      // back here (at most one reallocation per second for a busy one).
      outbound_.release_memory();
      auto idle = set_.limits_.idle_timeout;
      if (idle.count() == 0) return;
      if (!ping_sent_) {
        if (now - last_read_ >= idle / 2) {
          // Half the timeout without a byte: probe. Browsers and `ws` answer pings by
          // themselves; any byte from the peer (the pong) clears ping_sent_ in on_readable.
          ping_sent_ = true;
          deadline_ = now + idle / 2;  // in the open state deadline_ is the probe's deadline
          enqueue(make_shared_frame(encode_frame(Opcode::ping, {})));
        }
      } else if (now >= deadline_) {
        // The probe went unanswered for half the timeout: the peer has been silent for at
        // least the whole timeout, and it had a full half of it to answer one ping.
        CC_LOG_INFO(
            "closing an idle connection: nothing received for {} ms",
            std::chrono::duration_cast<std::chrono::milliseconds>(now - last_read_).count());
        ended(EndReason::idle_timeout);
        start_close(close_code::going_away, "idle timeout");
      }
      return;
    }
    case State::closed:
      return;
  }
}

}  // namespace cablecast::ws
