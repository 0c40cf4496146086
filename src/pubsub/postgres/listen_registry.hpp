#pragma once
// Which PostgreSQL channels this node LISTENs to, for which streams, and who waits for the
// LISTEN to complete. Pure bookkeeping (no I/O, broker thread only), so the counting rules are
// unit-tested without a server:
// - every hub shard that gains its first local subscriber of a stream calls add(), every shard
//   that loses its last calls remove(); the channel is LISTENed on the first add and UNLISTENed
//   after the last remove, so PostgreSQL sees one LISTEN per channel per node;
// - an add() is answered (its ReadyFn called) once the LISTEN has executed, which is Rails'
//   rule for confirm_subscription; later adds of a live channel are answered at once;
// - several streams can share a channel (SHA1 of a long name colliding with a 40-hex name), so
//   a channel keeps a count per stream and a notification goes to each of them, as in Rails;
// - after the listener connection broke, every channel waits again until its new LISTEN ran.
// A LISTEN carries a generation number so that the answer of a superseded LISTEN (channel
// dropped and added again, or connection replaced) is ignored.
//
// Not shared with redis::SubscriptionTable, though both count references and hold ready
// callbacks: the part each gets right is matching a confirmation to the life it confirms, and
// the brokers differ there (Redis: in-order acknowledgements with no identity, counted per
// stream; PostgreSQL: one answer per LISTEN query, tagged with a generation, which can also fail
// and covers several streams of one channel). subscription_table.hpp says more.
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pubsub/adapter.hpp"

namespace cablecast::pubsub::postgres {

class ListenRegistry {
 public:
  struct Listen {
    std::string channel;
    std::uint64_t generation;
  };
  struct StreamCount {
    std::string stream;
    std::size_t count;
  };

  // Counts one subscription of `stream` on `channel`. Returns the LISTEN to send when this is
  // the channel's first subscriber; otherwise answers `on_ready` now (live or failed channel) or
  // keeps it until the pending LISTEN completes. A non-empty `refuse` fails the new channel
  // without a LISTEN (a name PostgreSQL cannot hold).
  std::optional<Listen> add(const std::string& channel, const std::string& stream, ReadyFn on_ready,
                            boost::system::error_code refuse = {});

  // Balances one add(). True when that was the channel's last subscriber and it had been (or
  // was being) LISTENed, i.e. an UNLISTEN is due.
  bool remove(const std::string& channel, const std::string& stream);

  // The LISTEN of `generation` finished: answers every waiting ReadyFn with `ec`.
  void listened(const std::string& channel, std::uint64_t generation, boost::system::error_code ec);

  // The listener connection broke: every live channel waits for a new LISTEN.
  void connection_lost();

  // The listener connection is back: the LISTENs to send (every channel that has not failed),
  // each with a fresh generation.
  std::vector<Listen> relisten_all();

  // Streams to deliver a notification of `channel` to; null when nobody here wants it.
  const std::vector<StreamCount>* streams(const std::string& channel) const;

  // Forgets everything; waiting ReadyFns are dropped unanswered (shutdown).
  void clear() { channels_.clear(); }

  std::size_t channel_count() const { return channels_.size(); }
  bool is_live(const std::string& channel) const;

 private:
  enum class State { pending, live, failed };
  struct Channel {
    std::vector<StreamCount> streams;
    State state = State::pending;
    std::uint64_t generation = 0;
    boost::system::error_code error;  // why it failed
    std::vector<ReadyFn> waiting;
  };

  std::unordered_map<std::string, Channel> channels_;
  std::uint64_t next_generation_ = 0;
};

}  // namespace cablecast::pubsub::postgres
