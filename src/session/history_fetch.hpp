#pragma once
// One history request of a subscription (AnyCable's "history" command, or "history" inside
// "subscribe"), asked of the broker stream by stream: for a stream the client gave a position
// for, what came after it; else, with "since", what was stored since then. Any stream refused
// (unknown epoch, evicted offset, store down) refuses the whole request: the client is told
// reject_history and knows it lost data.
#include <boost/asio/any_io_executor.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "broker/history.hpp"
#include "protocol/command.hpp"

namespace cablecast::session {

// Per stream that had something to ask, its slice; in the subscription's stream order.
using HistoryOutcome = boost::system::result<std::vector<std::pair<std::string, broker::Slice>>>;

// `done` runs on `ex` once every stream answered. `history_ttl`: a stream with nothing kept
// had no broadcast for that long, so a "since" within it missed nothing (success, empty).
void fetch_history(broker::History& history, boost::asio::any_io_executor ex,
                   const std::vector<std::string>& streams, protocol::HistoryRequest request,
                   std::chrono::seconds history_ttl, std::function<void(HistoryOutcome)> done);

}  // namespace cablecast::session
