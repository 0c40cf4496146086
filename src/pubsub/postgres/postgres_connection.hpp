#pragma once
// One libpq connection driven by the broker io_context, never blocking that thread: it connects
// with PQconnectStartParams/PQconnectPoll, runs queries one at a time from a FIFO (so they
// execute, and NOTIFYs commit, in the order they were queued), and hands every notification it
// reads to `notify`. It never reconnects by itself: the adapter owns that policy.
//
// All members are called on the broker thread only. Handlers keep the object alive
// (shared_from_this) and carry a generation number, so a handler of a connection that has since
// been closed or replaced does nothing.
#include <libpq-fe.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cablecast::pubsub::postgres {

class PostgresConnection : public std::enable_shared_from_this<PostgresConnection> {
 public:
  enum class Outcome {
    ok,      // the server executed the query
    failed,  // the server refused it (the error text says why)
    lost,    // the connection went away first: unknown whether it ran
  };
  using QueryDone = std::function<void(Outcome, std::string_view error)>;

  struct Events {
    // The connection is established and accepts queries.
    std::function<void()> up;
    // A connection attempt failed, or an established connection broke. Queries still queued
    // have already been reported `lost`. `was_up` tells the two cases apart.
    std::function<void(const std::string& why, bool was_up)> down;
    // A NOTIFY arrived on a channel this session LISTENs to.
    std::function<void(std::string_view channel, std::string_view payload)> notify;
  };

  // `role` names the connection in logs and in pg_stat_activity ("listener", "publisher").
  PostgresConnection(boost::asio::io_context& io, std::string role, std::string conninfo,
                     Events events);
  ~PostgresConnection();
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  // Starts one connection attempt; `up` or `down` follows. Requires !is_up() && !connecting().
  void connect(std::chrono::milliseconds timeout);

  // Queues `sql` with text parameters ($1, $2, ...); `done` runs once it completed. While the
  // connection is not up, queries wait in the queue (the adapter only queues when it is up).
  void query(std::string sql, std::vector<std::string> params, QueryDone done);

  // Closes the connection (if any) without a `down` event; queued queries are reported `lost`.
  void close();
  // Closes the connection as if it broke: `down` follows with `why`, as for any loss (the owner
  // reconnects). Nothing happens while idle (no connection, no attempt).
  void drop(std::string why);

  bool is_up() const { return state_ == State::up; }
  bool connecting() const { return state_ == State::connecting; }
  std::size_t queued() const { return queue_.size(); }
  const std::string& role() const { return role_; }

 private:
  enum class State { idle, connecting, up };
  struct Query {
    std::string sql;
    std::vector<std::string> params;
    QueryDone done;
  };

  void wait_to_connect(PostgresPollingStatusType want);
  void poll_connect();
  void on_connected();
  void wait_readable();
  void wait_writable();
  void on_readable();
  void flush();
  void send_next();
  void collect_results();
  void finish_query();
  void drain_notifications();
  void lose(std::string why);
  void teardown();
  void fail_queued(std::string_view why);
  std::string last_error() const;

  boost::asio::io_context& io_;
  std::string role_;
  std::string conninfo_;
  Events events_;
  PGconn* conn_ = nullptr;
  // Wraps libpq's socket for readiness waits only: libpq owns the descriptor, so it is always
  // release()d, never closed, and re-assigned whenever libpq may have replaced the socket.
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer connect_timer_;
  State state_ = State::idle;
  std::uint64_t generation_ = 0;  // bumped by every attempt and teardown
  bool reading_ = false;          // a read wait is pending
  bool writing_ = false;          // a write wait is pending (PQflush had more to send)
  bool in_flight_ = false;        // queue_.front() has been sent
  std::string query_error_;       // first error result of the query in flight
  std::deque<Query> queue_;
};

}  // namespace cablecast::pubsub::postgres
