#include "broker/memory_history.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <iterator>
#include <utility>

#include "broadcast/envelope.hpp"
#include "broker/history_rules.hpp"
#include "core/assert.hpp"

namespace cablecast::broker {

namespace {

void answer(boost::asio::any_io_executor& ex, QueryFn done, boost::system::result<Slice> result) {
  boost::asio::post(ex, [done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

}  // namespace

std::int64_t unix_seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

MemoryHistory::MemoryHistory(HistoryOptions options, pubsub::Adapter& adapter, SecondsClock clock)
    : options_(options), adapter_(adapter), clock_(std::move(clock)) {
  CABLE_ASSERT(options_.limit == 0 || options_.ttl.count() > 0);
}

boost::system::result<void> MemoryHistory::publish(std::string_view stream,
                                                   std::string_view message,
                                                   const broadcast::Meta& meta) {
  return adapter_.publish(stream,
                          broadcast::to_wire({std::string(stream), std::string(message), meta}));
}

std::optional<Position> MemoryHistory::on_receive(std::string_view stream, std::string_view message,
                                                  const broadcast::Meta* meta) {
  if (options_.limit == 0 || (meta && meta->transient)) return std::nullopt;
  const std::int64_t now = clock_();
  std::lock_guard lock(mutex_);
  auto [it, created] = streams_.try_emplace(std::string(stream));
  Record& record = it->second;
  if (created) {
    // A new generation: offsets restart at 1, so positions of an earlier record of this stream
    // (forgotten after expiring) must not match.
    record.epoch = new_epoch();
    record.in_activity = activity_.insert(activity_.end(), &*it);
  } else {
    activity_.splice(activity_.end(), activity_, record.in_activity);
  }
  record.entries.push_back({++record.last_offset, now, std::string(message)});
  while (record.entries.size() > options_.limit) record.entries.pop_front();
  drop_expired(record, now);
  Position position{record.epoch, record.last_offset};
  sweep(now);
  return position;
}

void MemoryHistory::drop_expired(Record& record, std::int64_t now) const {
  const std::int64_t ttl = options_.ttl.count();
  while (!record.entries.empty() && record.entries.front().timestamp + ttl <= now) {
    record.entries.pop_front();
  }
}

void MemoryHistory::sweep(std::int64_t now) {
  // The front stream was written least recently, so its newest entry is the oldest of all
  // newest entries: once it is still alive, every stream behind it is too.
  while (!activity_.empty()) {
    Record& record = activity_.front()->second;
    drop_expired(record, now);
    if (!record.entries.empty()) break;
    erase(streams_.find(activity_.front()->first));
  }
}

void MemoryHistory::erase(Table::iterator it) {
  activity_.erase(it->second.in_activity);
  streams_.erase(it);
}

MemoryHistory::Table::iterator MemoryHistory::find_live(const std::string& stream,
                                                        std::int64_t now) {
  sweep(now);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return it;
  drop_expired(it->second, now);
  if (it->second.entries.empty()) {
    erase(it);
    return streams_.end();
  }
  return it;
}

void MemoryHistory::answer_query(
    const std::string& stream, boost::asio::any_io_executor ex, QueryFn done,
    const std::function<boost::system::result<Slice>(const Record&)>& read) {
  boost::system::result<Slice> result = make_error_code(HistoryError::unknown_stream);
  {
    std::lock_guard lock(mutex_);
    auto it = find_live(stream, clock_());
    if (it != streams_.end()) result = read(it->second);
  }
  answer(ex, std::move(done), std::move(result));
}

void MemoryHistory::history_from(std::string stream, Position after,
                                 boost::asio::any_io_executor ex, QueryFn done) {
  answer_query(
      stream, ex, std::move(done), [&](const Record& record) -> boost::system::result<Slice> {
        auto first_after =
            std::find_if(record.entries.begin(), record.entries.end(),
                         [&](const Entry& entry) { return entry.offset > after.offset; });
        const std::uint64_t first_kept_after =
            first_after == record.entries.end() ? 0 : first_after->offset;
        if (auto ec = check_from(record.epoch, record.last_offset, first_kept_after, after)) {
          return ec;
        }
        return Slice{record.epoch, {first_after, record.entries.end()}};
      });
}

void MemoryHistory::history_since(std::string stream, std::int64_t since,
                                  boost::asio::any_io_executor ex, QueryFn done) {
  answer_query(stream, ex, std::move(done),
               [&](const Record& record) -> boost::system::result<Slice> {
                 Slice slice{record.epoch, {}};
                 std::copy_if(record.entries.begin(), record.entries.end(),
                              std::back_inserter(slice.entries),
                              [&](const Entry& entry) { return entry.timestamp >= since; });
                 return slice;
               });
}

std::size_t MemoryHistory::stream_count() const {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

}  // namespace cablecast::broker
