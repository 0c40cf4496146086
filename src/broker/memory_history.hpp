#pragma once
// Stream history kept in this process (with --pubsub memory or postgres): this node numbers what
// it receives, in the order the adapter delivers it, and keeps the last `limit` messages of each
// stream for `ttl`. See broker/history.hpp for the contract.
//
// Memory stays bounded without a timer: streams are kept in the order they last received a
// message, and every on_receive (and every query) forgets the streams at the front of that
// order whose newest message has expired. A stream's record, and so its epoch, is created anew
// when a message arrives after it was forgotten.
//
// Threads: on_receive runs on the adapter's delivery thread(s), queries on the event loops; one
// mutex guards the table (held for a copy of at most `limit` entries, never for I/O).
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "broker/history.hpp"
#include "pubsub/adapter.hpp"

namespace cablecast::broker {

// UNIX seconds now; tests inject their own.
using SecondsClock = std::function<std::int64_t()>;
std::int64_t unix_seconds_now();

class MemoryHistory final : public History {
 public:
  // `adapter` carries publish() to this node (and, with PostgreSQL, to the others); it must
  // outlive this object. `clock` says what time it is (UNIX seconds).
  MemoryHistory(HistoryOptions options, pubsub::Adapter& adapter,
                SecondsClock clock = &unix_seconds_now);

  // adapter.publish(stream, the publication's wire payload): the position is given on receipt.
  boost::system::result<void> publish(std::string_view stream, std::string_view message,
                                      const broadcast::Meta& meta) override;
  // Numbers and stores a non-transient message (nothing when history is off).
  std::optional<Position> on_receive(std::string_view stream, std::string_view message,
                                     const broadcast::Meta* meta) override;
  void history_from(std::string stream, Position after, boost::asio::any_io_executor ex,
                    QueryFn done) override;
  void history_since(std::string stream, std::int64_t since, boost::asio::any_io_executor ex,
                     QueryFn done) override;
  std::string_view description() const override { return "memory (this node only)"; }

  // Streams with a record (tests: proves forgotten streams are freed).
  std::size_t stream_count() const;

 private:
  struct Record;
  using Table = std::unordered_map<std::string, Record>;
  struct Record {
    std::string epoch;
    std::uint64_t last_offset = 0;
    std::deque<Entry> entries;                            // oldest first, offsets consecutive
    std::list<Table::value_type*>::iterator in_activity;  // its place in activity_
  };

  // Both with mutex_ held.
  void drop_expired(Record& record, std::int64_t now) const;
  // Forgets the least recently written streams whose newest entry has expired.
  void sweep(std::int64_t now);
  Table::iterator find_live(const std::string& stream, std::int64_t now);
  void erase(Table::iterator it);
  // Answers a query on `ex`: what `read` (called with mutex_ held) makes of the live record of
  // `stream`, or unknown_stream when it has none.
  void answer_query(const std::string& stream, boost::asio::any_io_executor ex, QueryFn done,
                    const std::function<boost::system::result<Slice>(const Record&)>& read);

  const HistoryOptions options_;
  pubsub::Adapter& adapter_;
  const SecondsClock clock_;

  mutable std::mutex mutex_;
  Table streams_;  // guarded by mutex_
  // Streams, least recently written first (element pointers stay valid across rehashing).
  std::list<Table::value_type*> activity_;  // guarded by mutex_
};

}  // namespace cablecast::broker
