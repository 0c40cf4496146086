#pragma once
// Stream history (AnyCable's "reliable streams"): every non-transient broadcast to a stream gets
// a position, (epoch, offset), and the last messages of each stream are kept, bounded by count
// (--history-limit) and age (--history-ttl), so a client that lost its connection asks for what
// it missed: after a position it saw, or since a time.
//
// Two ways to assign positions, one interface:
// - MemoryHistory (memory and PostgreSQL pub/sub): this node numbers what it *receives*, on
//   receipt (on_receive), and keeps it in the process. With several PostgreSQL nodes every node
//   has its own numbering (its own epochs): a client that comes back on another node gets
//   reject_history, never a wrong message.
// - RedisHistory (Redis pub/sub): the publishing node numbers it, stores it in a Redis Stream and
//   PUBLISHes it with its position in one Lua script, so offsets and delivery order agree on
//   every node and any node answers history requests.
//
// epoch: names one generation of a stream's numbering. A new one starts whenever offsets restart
// (the stream's history expired, the process restarted, Redis lost the data), so a position of an
// earlier generation is recognised as unknown instead of being compared with new offsets.
#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broadcast/publication.hpp"

namespace cablecast::broker {

struct Position {
  std::string epoch;
  std::uint64_t offset = 0;
};

struct HistoryOptions {
  std::size_t limit = 100;        // messages kept per stream; 0 = history off
  std::chrono::seconds ttl{300};  // how long a message is kept
};

struct Entry {
  std::uint64_t offset = 0;
  std::int64_t timestamp = 0;  // UNIX seconds, when it was stored
  std::string message;         // the JSON text delivered as the frame's "message"
};

// What a history query found: the stream's epoch and the entries, oldest first.
struct Slice {
  std::string epoch;
  std::vector<Entry> entries;
};

enum class HistoryError {
  unknown_stream = 1,  // nothing kept for it (never broadcast, or expired)
  epoch_mismatch,      // the position is of another generation
  offset_evicted,      // entries after the position were already dropped (limit or age)
  unavailable,         // the store cannot be reached (Redis down)
};
const boost::system::error_category& history_category();
inline boost::system::error_code make_error_code(HistoryError e) {
  return {static_cast<int>(e), history_category()};
}

using QueryFn = std::function<void(boost::system::result<Slice>)>;

class History {
 public:
  virtual ~History() = default;

  // Publishes a broadcast so that it enters history: used for every publication that is not
  // transient (HTTP API, channels, Server::broadcast, anycable-rails). `message` is the JSON text
  // of the frame's message; `meta` may carry exclude_socket / broadcast_type. An error means it
  // did not leave this node. Any thread.
  virtual boost::system::result<void> publish(std::string_view stream, std::string_view message,
                                              const broadcast::Meta& meta) = 0;

  // Every broadcast this node receives passes here once, in the order the adapter delivers
  // them, before it is handed to the loops (hub::Hub::deliver, any thread). Returns the position
  // to stamp on its frames: MemoryHistory numbers and stores non-transient ones here;
  // RedisHistory returns the position the publisher's script put in `meta` (none for plain
  // payloads, e.g. from Rails processes on the same Redis: fan-out only).
  virtual std::optional<Position> on_receive(std::string_view stream, std::string_view message,
                                             const broadcast::Meta* meta) = 0;

  // The entries of `stream` after `after.offset` (exclusive), when `after.epoch` is the stream's
  // current epoch and nothing after it was dropped. Errors: unknown_stream, epoch_mismatch,
  // offset_evicted, unavailable. An empty slice (the client saw everything) is success.
  // `done` is posted to `ex`.
  virtual void history_from(std::string stream, Position after, boost::asio::any_io_executor ex,
                            QueryFn done) = 0;
  // The entries of `stream` stored at or after `since` (UNIX seconds). unknown_stream when
  // nothing is kept for it.
  virtual void history_since(std::string stream, std::int64_t since,
                             boost::asio::any_io_executor ex, QueryFn done) = 0;

  // For the start-up log: "memory (this node only)", "redis streams".
  virtual std::string_view description() const = 0;
  // Whether publications can be stored right now (a store on a broker: its own connection is
  // up). /ready and /health report a store that is not: a broadcast then fails. Any thread.
  virtual bool connected() const { return true; }
};

}  // namespace cablecast::broker

namespace boost::system {
template <>
struct is_error_code_enum<cablecast::broker::HistoryError> : std::true_type {};
}  // namespace boost::system
