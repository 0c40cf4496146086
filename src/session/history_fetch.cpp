#include "session/history_fetch.hpp"

#include <boost/asio/post.hpp>
#include <ctime>
#include <memory>
#include <optional>

namespace cablecast::session {

namespace {

struct Gathering {
  std::vector<std::pair<std::string, broker::Slice>> slices;
  std::size_t remaining = 0;
  boost::system::error_code error;
  std::function<void(HistoryOutcome)> done;

  void finish_one() {
    if (--remaining != 0) return;
    if (error) return done(error);
    done(std::move(slices));
  }
};

}  // namespace

void fetch_history(broker::History& history, boost::asio::any_io_executor ex,
                   const std::vector<std::string>& streams, protocol::HistoryRequest request,
                   std::chrono::seconds history_ttl, std::function<void(HistoryOutcome)> done) {
  auto gathering = std::make_shared<Gathering>();
  gathering->done = std::move(done);
  // Which streams to ask, and how: a position the client holds wins over "since".
  struct Ask {
    std::size_t slot;
    std::optional<protocol::StreamPosition> after;
  };
  std::vector<Ask> asks;
  for (const auto& stream : streams) {
    std::optional<protocol::StreamPosition> after;
    for (const auto& [name, position] : request.streams) {
      if (name == stream) after = position;
    }
    if (!after && request.since <= 0) continue;
    asks.push_back(Ask{gathering->slices.size(), std::move(after)});
    gathering->slices.emplace_back(stream, broker::Slice{});
  }
  if (asks.empty()) {
    boost::asio::post(ex, [gathering] { gathering->done(std::move(gathering->slices)); });
    return;
  }
  gathering->remaining = asks.size();
  const std::int64_t since = request.since;
  const bool since_within_ttl = since >= static_cast<std::int64_t>(std::time(nullptr)) -
                                             static_cast<std::int64_t>(history_ttl.count());
  for (auto& ask : asks) {
    const std::string& stream = gathering->slices[ask.slot].first;
    auto on_answer = [gathering, slot = ask.slot, by_time = !ask.after,
                      since_within_ttl](boost::system::result<broker::Slice> slice) {
      if (slice) {
        gathering->slices[slot].second = std::move(*slice);
      } else if (!(by_time && since_within_ttl &&
                   slice.error() == broker::HistoryError::unknown_stream)) {
        if (!gathering->error) gathering->error = slice.error();
      }
      gathering->finish_one();
    };
    if (ask.after) {
      history.history_from(stream, broker::Position{ask.after->epoch, ask.after->offset}, ex,
                           std::move(on_answer));
    } else {
      history.history_since(stream, since, ex, std::move(on_answer));
    }
  }
}

}  // namespace cablecast::session
